/* test_record_events.c -- exercise 04.1: a shopping list records its domain events
 * (depot/domain.c).
 *
 * The tests are the to-do list of the exercise, in the order the README suggests: record() (the
 * create test needs only that), then complete, assign and cancel, then what must NOT be recorded
 * (a broken rule, running out of memory), then a list's whole life. A failing check prints what
 * it wanted and what your code did.
 *
 * Every test also checks that it leaked nothing (core_alloc_live() is the same before and after).
 * No servers are needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ddd.h"
#include "depot/domain.h"
#include "depot/domain_events.pb-c.h"

/* ---- checking results ------------------------------------------------------------------------ */

static void check_result(core_status got, const core_err *err, core_status want,
                         const char *want_msg, const char *call, const char *file, int line)
{
    if (want == CORE_OK && got == CORE_OK)
        return;
    if (want != CORE_OK && got == want && (!want_msg || strcmp(err->msg, want_msg) == 0))
        return;
    print_error("%s\n", call);
    if (want == CORE_OK)
        print_error("    wanted: CORE_OK (no error)\n");
    else if (want_msg)
        print_error("    wanted: error %s \"%s\"\n", core_status_name(want), want_msg);
    else
        print_error("    wanted: error %s\n", core_status_name(want));
    if (got == CORE_OK)
        print_error("    got:    CORE_OK\n");
    else
        print_error("    got:    error %s \"%s\"\n", core_status_name(got), err->msg);
    _fail(file, line);
}

/* expect_ok(call) / expect_rule(call, text) / expect_nomem(call): run call, which names its error
 * argument `err` (a fresh core_err for each call), and check the outcome. */
#define expect_status(call, want, text)                                                            \
    do {                                                                                           \
        core_err err_ = CORE_ERR_INIT;                                                             \
        core_err *err = &err_;                                                                     \
        core_status got_ = (call);                                                                 \
        check_result(got_, err, (want), (text), #call, __FILE__, __LINE__);                        \
    } while (0)
#define expect_ok(call) expect_status(call, CORE_OK, NULL)
#define expect_rule(call, text) expect_status(call, CORE_ERR_INVALID, text)

/* The names of the events l holds, space separated ("" for none). */
static const char *event_names(const struct depot_shopping_list *l)
{
    static char buf[512];
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < l->agg.events.n && used < sizeof buf; i++) {
        int n = snprintf(buf + used, sizeof buf - used, "%s%s", i ? " " : "",
                         ddd_event_name(l->agg.events.items[i]));
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return buf;
}

/* Asserts that the list holds exactly the events named in want (in this order). */
#define expect_events(l, want)                                                                     \
    do {                                                                                           \
        const char *got_ = event_names(l);                                                         \
        if (strcmp(got_, (want)) != 0) {                                                           \
            print_error("error: the events the shopping list holds: wanted \"%s\", got \"%s\"\n",  \
                        (want), got_);                                                             \
            _fail(__FILE__, __LINE__);                                                             \
        }                                                                                          \
    } while (0)

/* Asserts that a string field is want; names the field when not. */
static void check_field(const char *what, const char *got, const char *want, const char *file,
                        int line)
{
    if (got && strcmp(got, want) == 0)
        return;
    print_error("error: %s: wanted \"%s\", got %s%s%s\n", what, want, got ? "\"" : "",
                got ? got : "NULL", got ? "\"" : "");
    _fail(file, line);
}
#define expect_field(what, got, want) check_field((what), (got), (want), __FILE__, __LINE__)

/* Event i of l: checks its metadata (aggregate-name, aggregate-id = id) and that its payload is a
 * desc message; returns the payload (borrowed from the event). */
static const ProtobufCMessage *event_payload(const struct depot_shopping_list *l, size_t i,
                                             const char *id, const ProtobufCMessageDescriptor *desc)
{
    assert_true(i < l->agg.events.n);
    const ddd_event *ev = l->agg.events.items[i];
    expect_field("metadata \"aggregate-id\" of the event (the shopping list's id)",
                 ddd_event_metadata(ev, "aggregate-id"), id);
    expect_field("metadata \"aggregate-name\" of the event",
                 ddd_event_metadata(ev, "aggregate-name"), "depot.ShoppingList");
    if (!ddd_event_payload_is(ev, desc)) {
        const ProtobufCMessage *p = ddd_event_payload(ev);
        print_error("error: the payload of %s: wanted a %s message, got %s\n", ddd_event_name(ev),
                    desc->name, p ? p->descriptor->name : "no payload (NULL)");
        fail();
    }
    return ddd_event_payload(ev);
}

/* ---- fixtures -------------------------------------------------------------------------------- */

static long live_before;
static struct depot_shopping_list list; /* teardown releases it, also after a failed test */
static struct ddd_event_list taken;     /* events taken out of list; teardown releases them */

/* Fills list as the repository does when it loads a stored list: the fields only. The aggregate
 * part stays INIT -- no events and NO id yet (agg.id is ""), so record() must set it. */
static void loaded(const char *id, const char *order_id, enum depot_list_status status,
                   const char *bot)
{
    depot_shopping_list_release(&list);
    core_strlcpy(list.id, id, sizeof list.id);
    core_strlcpy(list.order_id, order_id, sizeof list.order_id);
    core_strlcpy(list.assigned_bot_id, bot, sizeof list.assigned_bot_id);
    list.status = status;
}

static int setup(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    live_before = core_alloc_live();
    depot_shopping_list_init(&list);
    ddd_event_list_release(&taken);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    depot_shopping_list_release(&list);
    ddd_event_list_release(&taken);
    assert_int_equal(core_alloc_live(), live_before); /* leak check */
    return 0;
}

/* ---- 1. record() ----------------------------------------------------------------------------- */

/* create is the chapter's code: it already calls record() with created_payload(). */
static void create_records_shopping_list_created(void **state)
{
    (void)state;
    expect_ok(depot_shopping_list_create(&list, "list-1", "order-1", err));
    expect_events(&list, "depot.ShoppingListCreated");
    const Depot__Domain__ShoppingListCreated *p = (const void *)event_payload(
        &list, 0, "list-1", &depot__domain__shopping_list_created__descriptor);
    expect_field("ShoppingListCreated.order_id", p->order_id, "order-1");
    expect_field("the aggregate's id (list.agg.id)", list.agg.id, "list-1");
}

/* ---- 2. complete, assign, cancel ------------------------------------------------------------ */

static void complete_records_shopping_list_completed(void **state)
{
    (void)state;
    loaded("list-7", "order-7", DEPOT_LIST_ASSIGNED, "bot-3");
    expect_ok(depot_shopping_list_complete(&list, err));
    assert_int_equal(list.status, DEPOT_LIST_COMPLETED);
    expect_events(&list, "depot.ShoppingListCompleted");
    const Depot__Domain__ShoppingListCompleted *p = (const void *)event_payload(
        &list, 0, "list-7", &depot__domain__shopping_list_completed__descriptor);
    expect_field("ShoppingListCompleted.order_id (the order depot.OrderHandlers readies)",
                 p->order_id, "order-7");
}

static void assign_records_shopping_list_assigned(void **state)
{
    (void)state;
    char bot[16] = "bot-1"; /* the caller's buffer: overwritten below */
    loaded("list-2", "order-2", DEPOT_LIST_AVAILABLE, "");
    expect_ok(depot_shopping_list_assign(&list, bot, err));
    memcpy(bot, "XXXXX", 5);
    assert_int_equal(list.status, DEPOT_LIST_ASSIGNED);
    expect_field("list.assigned_bot_id", list.assigned_bot_id, "bot-1");
    expect_events(&list, "depot.ShoppingListAssigned");
    const Depot__Domain__ShoppingListAssigned *p = (const void *)event_payload(
        &list, 0, "list-2", &depot__domain__shopping_list_assigned__descriptor);
    expect_field("ShoppingListAssigned.order_id", p->order_id, "order-2");
    expect_field("ShoppingListAssigned.bot_id (a copy, not the caller's buffer)", p->bot_id,
                 "bot-1");
}

static void cancel_records_shopping_list_canceled_from_each_open_status(void **state)
{
    (void)state;
    const enum depot_list_status open[] = {DEPOT_LIST_AVAILABLE, DEPOT_LIST_ASSIGNED,
                                           DEPOT_LIST_ACTIVE};
    for (size_t i = 0; i < sizeof open / sizeof open[0]; i++) {
        loaded("list-3", "order-3", open[i], open[i] == DEPOT_LIST_AVAILABLE ? "" : "bot-1");
        expect_ok(depot_shopping_list_cancel(&list, err));
        assert_int_equal(list.status, DEPOT_LIST_CANCELLED);
        expect_events(&list, "depot.ShoppingListCanceled");
        const Depot__Domain__ShoppingListCanceled *p = (const void *)event_payload(
            &list, 0, "list-3", &depot__domain__shopping_list_canceled__descriptor);
        expect_field("ShoppingListCanceled.order_id", p->order_id, "order-3");
    }
}

/* ---- 3. what is not recorded ----------------------------------------------------------------- */

static void a_broken_rule_changes_nothing_and_records_nothing(void **state)
{
    (void)state;
    char long_id[DEPOT_ID_MAX + 2];
    memset(long_id, 'b', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';

    loaded("list-4", "order-4", DEPOT_LIST_AVAILABLE, "");
    expect_rule(depot_shopping_list_assign(&list, "  ", err), "the bot id cannot be blank");
    expect_rule(depot_shopping_list_assign(&list, long_id, err), "the bot id is too long");
    expect_rule(depot_shopping_list_complete(&list, err), "the shopping list cannot be completed");
    assert_int_equal(list.status, DEPOT_LIST_AVAILABLE);
    expect_events(&list, "");

    loaded("list-4", "order-4", DEPOT_LIST_ASSIGNED, "bot-1");
    expect_rule(depot_shopping_list_assign(&list, "bot-2", err),
                "the shopping list cannot be assigned");
    expect_field("list.assigned_bot_id", list.assigned_bot_id, "bot-1");
    expect_events(&list, "");

    const enum depot_list_status closed[] = {DEPOT_LIST_COMPLETED, DEPOT_LIST_CANCELLED};
    for (size_t i = 0; i < 2; i++) {
        loaded("list-4", "order-4", closed[i], "bot-1");
        expect_rule(depot_shopping_list_cancel(&list, err),
                    "the shopping list cannot be cancelled");
        expect_rule(depot_shopping_list_complete(&list, err),
                    "the shopping list cannot be completed");
        assert_int_equal(list.status, closed[i]);
        expect_events(&list, "");
    }
}

enum change { ASSIGN, COMPLETE, CANCEL };
static const char *const change_names[] = {"assign", "complete", "cancel"};

static core_status apply(enum change change, core_err *err)
{
    switch (change) {
    case ASSIGN:
        return depot_shopping_list_assign(&list, "bot-9", err);
    case COMPLETE:
        return depot_shopping_list_complete(&list, err);
    case CANCEL:
        return depot_shopping_list_cancel(&list, err);
    }
    return CORE_ERR_INTERNAL;
}

/* Makes the n-th allocation of the change fail, for n = 0, 1, ... until the change succeeds. A
 * failure must be CORE_ERR_NOMEM and leave the list exactly as it was: same status, same bot,
 * no event. The change and its event happen together or not at all. */
static void out_of_memory_changes_nothing_and_records_nothing(void **state)
{
    (void)state;
    for (int c = ASSIGN; c <= CANCEL; c++) {
        enum depot_list_status before = c == ASSIGN ? DEPOT_LIST_AVAILABLE : DEPOT_LIST_ASSIGNED;
        const char *bot = c == ASSIGN ? "" : "bot-1";
        int failures = 0;
        for (long n = 0; n < 100; n++) {
            loaded("list-5", "order-5", before, bot);
            core_err err = CORE_ERR_INIT;
            long live = core_alloc_live();
            core_alloc_fail_after(n);
            core_status st = apply((enum change)c, &err);
            core_alloc_fail_after(-1);
            if (st == CORE_OK)
                break;
            failures++;
            if (st != CORE_ERR_NOMEM || list.status != before ||
                strcmp(list.assigned_bot_id, bot) != 0 || list.agg.events.n != 0 ||
                core_alloc_live() != live) {
                print_error("error: %s with allocation %ld failing: wanted CORE_ERR_NOMEM, "
                            "status \"%s\", bot \"%s\", no event, nothing left allocated; got "
                            "%s \"%s\", status \"%s\", bot \"%s\", events \"%s\", %ld "
                            "allocation(s) left\n",
                            change_names[c], n, depot_list_status_text(before), bot,
                            core_status_name(st), err.msg, depot_list_status_text(list.status),
                            list.assigned_bot_id, event_names(&list), core_alloc_live() - live);
                fail();
            }
        }
        if (failures == 0) {
            print_error("error: %s never allocated: does it record its event?\n", change_names[c]);
            fail();
        }
        expect_events(&list, c == ASSIGN     ? "depot.ShoppingListAssigned"
                             : c == COMPLETE ? "depot.ShoppingListCompleted"
                                             : "depot.ShoppingListCanceled");
    }
}

/* ---- 4. a list's whole life ------------------------------------------------------------------ */

/* The events pile up in the aggregate until the application takes them (after the save); each is
 * its own copy of the data, valid after the list is gone. */
static void the_events_pile_up_until_taken_and_outlive_the_list(void **state)
{
    (void)state;
    expect_ok(depot_shopping_list_create(&list, "list-6", "order-6", err));
    expect_ok(depot_shopping_list_assign(&list, "bot-6", err));
    expect_ok(depot_shopping_list_complete(&list, err));
    expect_events(&list, "depot.ShoppingListCreated depot.ShoppingListAssigned "
                         "depot.ShoppingListCompleted");
    expect_ok(ddd_aggregate_take_events(&list.agg, &taken, err));
    expect_events(&list, "");
    depot_shopping_list_release(&list); /* the list is gone; its events are not */

    assert_int_equal(taken.n, 3);
    for (size_t i = 0; i < taken.n; i++) {
        expect_field("aggregate-id", ddd_event_metadata(taken.items[i], "aggregate-id"), "list-6");
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(ddd_event_id(taken.items[i]), ddd_event_id(taken.items[j]));
    }
    const Depot__Domain__ShoppingListAssigned *a = (const void *)ddd_event_payload(taken.items[1]);
    assert_true(
        ddd_event_payload_is(taken.items[1], &depot__domain__shopping_list_assigned__descriptor));
    expect_field("ShoppingListAssigned.bot_id", a->bot_id, "bot-6");
    expect_field("ShoppingListAssigned.order_id", a->order_id, "order-6");
    const Depot__Domain__ShoppingListCompleted *c = (const void *)ddd_event_payload(taken.items[2]);
    assert_true(
        ddd_event_payload_is(taken.items[2], &depot__domain__shopping_list_completed__descriptor));
    expect_field("ShoppingListCompleted.order_id", c->order_id, "order-6");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(create_records_shopping_list_created),
        T(complete_records_shopping_list_completed),
        T(assign_records_shopping_list_assigned),
        T(cancel_records_shopping_list_canceled_from_each_open_status),
        T(a_broken_rule_changes_nothing_and_records_nothing),
        T(out_of_memory_changes_nothing_and_records_nothing),
        T(the_events_pile_up_until_taken_and_outlive_the_list),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
