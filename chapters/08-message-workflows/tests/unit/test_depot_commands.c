/* test_depot_commands.c -- unit tests of the depot's part in the create-order saga (chapter 08):
 * the pending status and InitiateShopping in the domain (depot/domain.h), the idempotent
 * application commands behind the saga's commands (depot/application.h), and the CommandHandlers
 * (depot/handlers.h) answering commands on the in-memory stream (am.h), with the fakes of
 * tests/support/depot_fakes.h (one list per order, as the table's unique index).
 * Checked: a list created by the command is pending and becomes available only when initiated;
 * the same command twice (a redelivery, or another command for the same order) has one effect
 * and the same reply; a lookup that loses the race to another delivery's save answers the saved
 * list; broken rules answer am.Failure with the reason; an outage retries the command. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "am.h"
#include "ddd.h"
#include "depot/application.h"
#include "depot/commands.h"
#include "depot/handlers.h"
#include "depot_fakes.h"
#include "monolith/messages.h"
#include "pb.h"
#include "reply_recorder.h"

/* ---- the domain ------------------------------------------------------------------------------ */

static void a_pending_list_waits_for_initiate(void **state)
{
    (void)state;
    struct depot_shopping_list l = DEPOT_SHOPPING_LIST_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(depot_shopping_list_create_pending(&l, "l1", "o1", NULL), CORE_OK);
    assert_int_equal(l.status, DEPOT_LIST_PENDING);
    assert_string_equal(depot_list_status_text(l.status), "pending");
    enum depot_list_status parsed = DEPOT_LIST_AVAILABLE;
    assert_true(depot_list_status_parse("pending", &parsed));
    assert_int_equal(parsed, DEPOT_LIST_PENDING);
    assert_int_equal(l.agg.events.n, 1); /* ShoppingListCreated */

    /* no bot may take it yet */
    assert_int_equal(depot_shopping_list_assign(&l, "bot-1", &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the shopping list cannot be assigned");

    assert_int_equal(depot_shopping_list_initiate(&l, NULL), CORE_OK);
    assert_int_equal(l.status, DEPOT_LIST_AVAILABLE);
    assert_int_equal(l.agg.events.n, 2);
    assert_string_equal(ddd_event_name(l.agg.events.items[1]), DEPOT_SHOPPING_LIST_INITIATED);
    assert_string_equal(ddd_event_metadata(l.agg.events.items[1], "aggregate-id"), "l1");

    /* again: nothing new */
    assert_int_equal(depot_shopping_list_initiate(&l, NULL), CORE_OK);
    assert_int_equal(l.agg.events.n, 2);
    assert_int_equal(depot_shopping_list_assign(&l, "bot-1", NULL), CORE_OK);
    assert_int_equal(depot_shopping_list_initiate(&l, NULL), CORE_OK); /* past it: still fine */
    assert_int_equal(l.status, DEPOT_LIST_ASSIGNED);
    depot_shopping_list_release(&l);
}

static void a_pending_list_can_be_cancelled_and_not_initiated(void **state)
{
    (void)state;
    struct depot_shopping_list l = DEPOT_SHOPPING_LIST_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(depot_shopping_list_create_pending(&l, "l1", "o1", NULL), CORE_OK);
    assert_int_equal(depot_shopping_list_cancel(&l, NULL), CORE_OK);
    assert_int_equal(l.status, DEPOT_LIST_CANCELLED);
    assert_int_equal(depot_shopping_list_initiate(&l, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the shopping list cannot be initiated: it is cancelled");
    assert_int_equal(l.status, DEPOT_LIST_CANCELLED);
    assert_int_equal(l.agg.events.n, 2); /* Created, Canceled */
    depot_shopping_list_release(&l);
}

/* ---- the application ------------------------------------------------------------------------- */

struct fixture {
    struct depot_fake_lists lists;
    struct depot_fake_stores stores;
    struct depot_app app;
    ddd_dispatcher *dispatcher; /* the app's publisher */
    char published[512];        /* "<event name>(<list id>) ..." */
    es_registry *messages;
    am_mem_broker *broker;
    am_stream *stream;
    struct reply_recorder rec;
    long live;
};

static core_status on_event(void *ud, const ddd_event *ev, core_err *err)
{
    (void)err;
    struct fixture *fx = ud;
    size_t used = strlen(fx->published);
    const char *id = ddd_event_metadata(ev, "aggregate-id");
    snprintf(fx->published + used, sizeof fx->published - used, "%s%s(%s)", used ? " " : "",
             ddd_event_name(ev), id ? id : "-");
    return CORE_OK;
}

static int setup(void **state)
{
    static const char *const names[] = {DEPOT_SHOPPING_LIST_CREATED, DEPOT_SHOPPING_LIST_CANCELED,
                                        DEPOT_SHOPPING_LIST_INITIATED};
    struct fixture *fx = test_calloc(1, sizeof *fx);
    fx->live = core_alloc_live();
    depot_fake_lists_port(&fx->app.lists, &fx->lists);
    depot_fake_stores_port(&fx->app.stores, &fx->stores);
    assert_int_equal(ddd_dispatcher_new(&fx->dispatcher, NULL), CORE_OK);
    fx->app.publisher = ddd_dispatcher_publisher(fx->dispatcher);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_int_equal(
            ddd_dispatcher_subscribe(fx->dispatcher, names[i], "test.Recorder", on_event, fx, NULL),
            CORE_OK);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    depot_fake_lists_release(&fx->lists);
    ddd_dispatcher_free(fx->dispatcher);
    assert_int_equal(core_alloc_live(), fx->live); /* leak check */
    test_free(fx);
    return 0;
}

static const struct depot_order_item order_items[] = {
    {"s1", "p1", 2}, {"s2", "p3", 1}, {"s1", "p2", 4}};
#define NITEMS (sizeof order_items / sizeof order_items[0])

static void the_command_creates_one_pending_list_per_order(void **state)
{
    struct fixture *fx = *state;
    char id[DEPOT_ID_MAX + 1] = "", again[DEPOT_ID_MAX + 1] = "";
    assert_int_equal(
        depot_app_create_order_shopping_list(&fx->app, "o1", order_items, NITEMS, id, NULL),
        CORE_OK);
    assert_true(core_uuid_valid(id));
    assert_int_equal(fx->lists.saves, 1);
    const struct depot_shopping_list *row = depot_fake_list(&fx->lists, id);
    assert_non_null(row);
    assert_int_equal(row->status, DEPOT_LIST_PENDING);
    assert_string_equal(row->order_id, "o1");
    assert_int_equal(row->nstops, 2);
    int lookups = fx->stores.product_calls;

    /* the same order again: the same list, nothing built, saved or published */
    assert_int_equal(
        depot_app_create_order_shopping_list(&fx->app, "o1", order_items, NITEMS, again, NULL),
        CORE_OK);
    assert_string_equal(again, id);
    assert_int_equal(fx->lists.n, 1);
    assert_int_equal(fx->lists.saves, 1);
    assert_int_equal(fx->stores.product_calls, lookups);
    char want[128];
    snprintf(want, sizeof want, "depot.ShoppingListCreated(%s)", id);
    assert_string_equal(fx->published, want);
}

static void a_create_that_loses_the_race_answers_the_saved_list(void **state)
{
    struct fixture *fx = *state;
    char first[DEPOT_ID_MAX + 1] = "", second[DEPOT_ID_MAX + 1] = "";
    assert_int_equal(
        depot_app_create_order_shopping_list(&fx->app, "o1", order_items, NITEMS, first, NULL),
        CORE_OK);
    fx->published[0] = '\0';
    /* the second delivery looked before the first one saved: its save hits the unique index */
    fx->lists.hide_by_order = 1;
    assert_int_equal(
        depot_app_create_order_shopping_list(&fx->app, "o1", order_items, NITEMS, second, NULL),
        CORE_OK);
    assert_string_equal(second, first);
    assert_int_equal(fx->lists.n, 1);
    assert_string_equal(fx->published, ""); /* the loser's list was never stored: no event */
}

static void the_rpc_refuses_a_second_list_of_an_order(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    char id[DEPOT_ID_MAX + 1] = "", again[DEPOT_ID_MAX + 1] = "";
    assert_int_equal(depot_app_create_shopping_list(&fx->app, "o1", order_items, NITEMS, id, NULL),
                     CORE_OK);
    assert_int_equal(depot_fake_list(&fx->lists, id)->status, DEPOT_LIST_AVAILABLE); /* as ch07 */
    assert_int_equal(
        depot_app_create_shopping_list(&fx->app, "o1", order_items, NITEMS, again, &err),
        CORE_ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "duplicate key")); /* the repository's error, passed up */
    assert_int_equal(fx->lists.n, 1);
}

static void the_create_command_checks_its_input(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    char id[DEPOT_ID_MAX + 1] = "";
    const struct depot_order_item unknown[] = {{"s1", "p9", 1}};
    const struct depot_order_item negative[] = {{"s1", "p1", -2}};
    assert_int_equal(
        depot_app_create_order_shopping_list(&fx->app, " ", order_items, NITEMS, id, &err),
        CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the order id cannot be blank");
    assert_int_equal(depot_app_create_order_shopping_list(&fx->app, "o1", NULL, 0, id, &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the shopping list has no items");
    assert_int_equal(depot_app_create_order_shopping_list(&fx->app, "o1", negative, 1, id, &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the item quantity must be positive");
    assert_int_equal(depot_app_create_order_shopping_list(&fx->app, "o1", unknown, 1, id, &err),
                     CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "building shopping list: product p9 not found");
    assert_int_equal(fx->lists.n, 0);
    assert_string_equal(fx->published, "");
}

static void the_create_command_passes_an_outage_up(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    char id[DEPOT_ID_MAX + 1] = "";
    fx->lists.fail_find_by_order = CORE_ERR_UNAVAILABLE;
    assert_int_equal(
        depot_app_create_order_shopping_list(&fx->app, "o1", order_items, NITEMS, id, &err),
        CORE_ERR_UNAVAILABLE);
    fx->lists.fail_find_by_order = CORE_OK;
    fx->stores.fail = CORE_ERR_UNAVAILABLE;
    assert_int_equal(
        depot_app_create_order_shopping_list(&fx->app, "o1", order_items, NITEMS, id, &err),
        CORE_ERR_UNAVAILABLE);
    assert_int_equal(fx->lists.n, 0);
}

static void cancel_and_initiate_have_one_effect(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    char a[DEPOT_ID_MAX + 1] = "", b[DEPOT_ID_MAX + 1] = "";
    assert_int_equal(depot_app_create_order_shopping_list(&fx->app, "o1", order_items, 1, a, NULL),
                     CORE_OK);
    assert_int_equal(depot_app_create_order_shopping_list(&fx->app, "o2", order_items, 1, b, NULL),
                     CORE_OK);
    fx->published[0] = '\0';
    int updates = fx->lists.updates;

    assert_int_equal(depot_app_initiate_shopping(&fx->app, a, NULL), CORE_OK);
    assert_int_equal(depot_app_initiate_shopping(&fx->app, a, NULL), CORE_OK);
    assert_int_equal(depot_fake_list(&fx->lists, a)->status, DEPOT_LIST_AVAILABLE);
    assert_int_equal(depot_app_ensure_cancelled(&fx->app, b, NULL), CORE_OK);
    assert_int_equal(depot_app_ensure_cancelled(&fx->app, b, NULL), CORE_OK);
    assert_int_equal(depot_fake_list(&fx->lists, b)->status, DEPOT_LIST_CANCELLED);
    assert_int_equal(fx->lists.updates, updates + 2);
    char want[256];
    snprintf(want, sizeof want, "depot.ShoppingListInitiated(%s) depot.ShoppingListCanceled(%s)", a,
             b);
    assert_string_equal(fx->published, want);

    /* the rules */
    assert_int_equal(depot_app_initiate_shopping(&fx->app, b, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the shopping list cannot be initiated: it is cancelled");
    assert_int_equal(depot_app_initiate_shopping(&fx->app, "nope", &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "shopping list nope not found");
    depot_fake_list(&fx->lists, a)->status = DEPOT_LIST_COMPLETED;
    assert_int_equal(depot_app_ensure_cancelled(&fx->app, a, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the shopping list cannot be cancelled");
    assert_int_equal(depot_app_ensure_cancelled(&fx->app, "", &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the shopping list id cannot be blank");
}

/* ---- the CommandHandlers on the stream ------------------------------------------------------- */

static int stream_setup(void **state)
{
    setup(state);
    struct fixture *fx = *state;
    assert_int_equal(es_registry_new(&fx->messages, NULL), CORE_OK);
    assert_int_equal(monolith_register_messages(fx->messages, NULL), CORE_OK);
    assert_int_equal(am_mem_broker_new(&fx->broker, NULL), CORE_OK);
    assert_int_equal(am_mem_stream_new(&fx->stream, fx->broker, "mallbots", NULL), CORE_OK);
    reply_recorder_subscribe(&fx->rec, fx->stream, fx->messages);
    assert_int_equal(depot_subscribe_command_handlers(fx->stream, fx->messages, &fx->app, NULL),
                     CORE_OK);
    return 0;
}

static int stream_teardown(void **state)
{
    struct fixture *fx = *state;
    reply_recorder_release(&fx->rec);
    am_stream_free(fx->stream);
    am_mem_broker_free(fx->broker);
    es_registry_free(fx->messages);
    return teardown(state);
}

static void send_create(struct fixture *fx, const char *cmd_id, const char *order_id)
{
    Depotapi__CreateShoppingList *m = pb_new_of(depotapi__create_shopping_list);
    assert_non_null(m);
    assert_int_equal(pb_set_string(&m->order_id, order_id, NULL), CORE_OK);
    m->items = core_calloc(2, sizeof *m->items);
    assert_non_null(m->items);
    for (size_t i = 0; i < 2; i++) {
        Depotapi__CreateShoppingList__Item *it = pb_new_of(depotapi__create_shopping_list__item);
        assert_non_null(it);
        m->items[m->n_items++] = it;
        assert_int_equal(pb_set_string(&it->store_id, order_items[i].store_id, NULL), CORE_OK);
        assert_int_equal(pb_set_string(&it->product_id, order_items[i].product_id, NULL), CORE_OK);
        it->quantity = order_items[i].quantity;
    }
    reply_recorder_send(fx->stream, DEPOT_COMMAND_CHANNEL, cmd_id,
                        DEPOTAPI_CREATE_SHOPPING_LIST_COMMAND, &m->base);
}

/* Sends CancelShoppingList (cancel) or InitiateShopping for list id. */
static void send_by_id(struct fixture *fx, const char *cmd_id, bool cancel, const char *id)
{
    ProtobufCMessage *payload;
    if (cancel) {
        Depotapi__CancelShoppingList *m = pb_new_of(depotapi__cancel_shopping_list);
        assert_non_null(m);
        assert_int_equal(pb_set_string(&m->id, id, NULL), CORE_OK);
        payload = &m->base;
    } else {
        Depotapi__InitiateShopping *m = pb_new_of(depotapi__initiate_shopping);
        assert_non_null(m);
        assert_int_equal(pb_set_string(&m->id, id, NULL), CORE_OK);
        payload = &m->base;
    }
    reply_recorder_send(fx->stream, DEPOT_COMMAND_CHANNEL, cmd_id,
                        cancel ? DEPOTAPI_CANCEL_SHOPPING_LIST_COMMAND
                               : DEPOTAPI_INITIATE_SHOPPING_COMMAND,
                        payload);
}

/* The list id in reply i, a depotapi.CreatedShoppingListReply, into out. */
static void created_id(struct fixture *fx, size_t i, char out[DEPOT_ID_MAX + 1])
{
    assert_string_equal(fx->rec.names[i], DEPOTAPI_CREATED_SHOPPING_LIST_REPLY);
    assert_true(fx->rec.succeeded[i]);
    Depotapi__CreatedShoppingList *m =
        (void *)reply_recorder_payload(&fx->rec, i, &depotapi__created_shopping_list__descriptor);
    core_strlcpy(out, m->id, DEPOT_ID_MAX + 1);
    pb_free(&m->base);
}

static void create_is_answered_with_the_list_id(void **state)
{
    struct fixture *fx = *state;
    char id[DEPOT_ID_MAX + 1], again[DEPOT_ID_MAX + 1];
    send_create(fx, "cmd-1", "o1");
    am_mem_broker_run(fx->broker, NULL);
    assert_int_equal(fx->rec.n, 1);
    created_id(fx, 0, id);
    assert_string_equal(fx->rec.command_ids[0], "cmd-1");
    assert_string_equal(fx->rec.saga_ids[0], "saga-1");
    assert_non_null(depot_fake_list(&fx->lists, id));
    assert_int_equal(depot_fake_list(&fx->lists, id)->status, DEPOT_LIST_PENDING);

    /* another command for the same order (the saga sent it again): the same answer */
    send_create(fx, "cmd-2", "o1");
    am_mem_broker_run(fx->broker, NULL);
    assert_int_equal(fx->rec.n, 2);
    created_id(fx, 1, again);
    assert_string_equal(again, id);
    assert_int_equal(fx->lists.n, 1);
}

static void a_redelivered_create_has_one_effect_and_one_reply(void **state)
{
    struct fixture *fx = *state;
    char id[DEPOT_ID_MAX + 1];
    send_create(fx, "cmd-1", "o1");
    am_mem_broker_fail(fx->broker, AM_MEM_FAIL_PUBLISH, 1); /* the reply: the command is NAKed */
    assert_true(am_mem_broker_step(fx->broker));
    assert_int_equal(fx->lists.n, 1); /* handled once already */
    assert_int_equal(fx->rec.n, 0);
    am_mem_broker_run(fx->broker, NULL); /* the redelivery */
    assert_int_equal(fx->rec.n, 1);
    created_id(fx, 0, id);
    assert_string_equal(id, fx->lists.rows[0].id);
    assert_int_equal(fx->lists.n, 1);
    assert_int_equal(fx->lists.saves, 1);
}

static void cancel_and_initiate_are_answered_success(void **state)
{
    struct fixture *fx = *state;
    char a[DEPOT_ID_MAX + 1], b[DEPOT_ID_MAX + 1];
    send_create(fx, "cmd-1", "o1");
    send_create(fx, "cmd-2", "o2");
    am_mem_broker_run(fx->broker, NULL);
    created_id(fx, 0, a);
    created_id(fx, 1, b);

    send_by_id(fx, "cmd-3", false, a);
    send_by_id(fx, "cmd-4", false, a);
    send_by_id(fx, "cmd-5", true, b);
    send_by_id(fx, "cmd-6", true, b);
    am_mem_broker_run(fx->broker, NULL);
    assert_int_equal(fx->rec.n, 6);
    for (size_t i = 2; i < 6; i++) {
        assert_string_equal(fx->rec.names[i], AM_REPLY_SUCCESS);
        assert_true(fx->rec.succeeded[i]);
        assert_null(fx->rec.payloads[i]);
    }
    assert_string_equal(fx->rec.command_ids[5], "cmd-6");
    assert_int_equal(depot_fake_list(&fx->lists, a)->status, DEPOT_LIST_AVAILABLE);
    assert_int_equal(depot_fake_list(&fx->lists, b)->status, DEPOT_LIST_CANCELLED);
    /* and now a bot can take the initiated list */
    assert_int_equal(depot_app_assign_shopping_list(&fx->app, a, "bot-1", NULL), CORE_OK);
}

static void broken_rules_are_answered_failure(void **state)
{
    struct fixture *fx = *state;
    char a[DEPOT_ID_MAX + 1];
    send_create(fx, "cmd-1", "o1");
    am_mem_broker_run(fx->broker, NULL);
    created_id(fx, 0, a);
    send_by_id(fx, "cmd-2", true, a);
    send_by_id(fx, "cmd-3", false, a); /* initiate a cancelled list */
    send_by_id(fx, "cmd-4", false, "nope");
    send_create(fx, "cmd-5", ""); /* no order id */
    am_mem_broker_run(fx->broker, NULL);
    assert_int_equal(fx->rec.n, 5);
    assert_true(fx->rec.succeeded[1]);
    for (size_t i = 2; i < 5; i++) {
        assert_string_equal(fx->rec.names[i], AM_REPLY_FAILURE);
        assert_false(fx->rec.succeeded[i]);
    }
    assert_non_null(strstr(fx->rec.errors[2], "the shopping list cannot be initiated"));
    assert_non_null(strstr(fx->rec.errors[3], "shopping list nope not found"));
    assert_non_null(strstr(fx->rec.errors[4], "the order id cannot be blank"));
    assert_int_equal(fx->lists.n, 1);
}

static void an_outage_retries_the_command(void **state)
{
    struct fixture *fx = *state;
    char id[DEPOT_ID_MAX + 1];
    fx->stores.fail = CORE_ERR_UNAVAILABLE;
    send_create(fx, "cmd-1", "o1");
    assert_true(am_mem_broker_step(fx->broker)); /* delivery 1: NAKed, nothing answered */
    assert_int_equal(fx->rec.n, 0);
    assert_int_equal(fx->lists.n, 0);
    fx->stores.fail = CORE_OK; /* the stores module is back */
    am_mem_broker_run(fx->broker, NULL);
    assert_int_equal(fx->rec.n, 1);
    created_id(fx, 0, id);
    assert_int_equal(fx->lists.n, 1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
#define S(name) cmocka_unit_test_setup_teardown(name, stream_setup, stream_teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_pending_list_waits_for_initiate),
        cmocka_unit_test(a_pending_list_can_be_cancelled_and_not_initiated),
        T(the_command_creates_one_pending_list_per_order),
        T(a_create_that_loses_the_race_answers_the_saved_list),
        T(the_rpc_refuses_a_second_list_of_an_order),
        T(the_create_command_checks_its_input),
        T(the_create_command_passes_an_outage_up),
        T(cancel_and_initiate_have_one_effect),
        S(create_is_answered_with_the_list_id),
        S(a_redelivered_create_has_one_effect_and_one_reply),
        S(cancel_and_initiate_are_answered_success),
        S(broken_rules_are_answered_failure),
        S(an_outage_retries_the_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
