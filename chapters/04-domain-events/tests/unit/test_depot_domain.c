/* test_depot_domain.c -- unit tests of the depot domain (shopping lists and their rules), of the
 * domain events each change records (chapter 04: names, payloads, metadata) and of the stops'
 * JSON form kept in depot.shopping_lists (postgres.c's codec; no database needed). */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "depot/adapters.h"
#include "depot/domain.h"
#include "depot/domain_events.pb-c.h"

static struct depot_store s1 = {"s1", "Waldorf Books", "West Upper Level"};
static struct depot_store s2 = {"s2", "Nic & Naks", "East Lower Level"};
static struct depot_product p1 = {"p1", "s1", "EDA with Golang"};
static struct depot_product p2 = {"p2", "s1", "C Interfaces"};
static struct depot_product p3 = {"p3", "s2", "Wizard w/ crystal"};

static char long_id[DEPOT_ID_MAX + 2];

static int setup(void **state)
{
    long *live = test_malloc(sizeof *live);
    *live = core_alloc_live();
    *state = live;
    return 0;
}

static int teardown(void **state)
{
    long *live = *state;
    assert_int_equal(core_alloc_live(), *live); /* leak check */
    test_free(live);
    return 0;
}

/* An available list "l1" of order "o1" with 2 x p1 and 1 x p2 at s1, 3 x p3 at s2. */
static void given_list(struct depot_shopping_list *l)
{
    depot_shopping_list_init(l);
    assert_int_equal(depot_shopping_list_create(l, "l1", "o1", NULL), CORE_OK);
    assert_int_equal(depot_shopping_list_add_item(l, &s1, &p1, 2, NULL), CORE_OK);
    assert_int_equal(depot_shopping_list_add_item(l, &s1, &p2, 1, NULL), CORE_OK);
    assert_int_equal(depot_shopping_list_add_item(l, &s2, &p3, 3, NULL), CORE_OK);
}

/* ---- statuses and creation ------------------------------------------------------------------- */

static void status_texts_round_trip(void **state)
{
    (void)state;
    static const char *const texts[] = {"available", "assigned", "active", "completed",
                                        "cancelled"};
    for (int s = DEPOT_LIST_AVAILABLE; s <= DEPOT_LIST_CANCELLED; s++) {
        enum depot_list_status parsed = DEPOT_LIST_COMPLETED;
        assert_string_equal(depot_list_status_text((enum depot_list_status)s), texts[s]);
        assert_true(depot_list_status_parse(texts[s], &parsed));
        assert_int_equal(parsed, s);
    }
    enum depot_list_status unchanged = DEPOT_LIST_ACTIVE;
    assert_false(depot_list_status_parse("canceled", &unchanged));
    assert_false(depot_list_status_parse(NULL, &unchanged));
    assert_int_equal(unchanged, DEPOT_LIST_ACTIVE);
    assert_string_equal(depot_list_status_text((enum depot_list_status)99), "");
}

static void create_starts_an_available_empty_list(void **state)
{
    (void)state;
    struct depot_shopping_list l = DEPOT_SHOPPING_LIST_INIT;
    assert_int_equal(depot_shopping_list_create(&l, "l1", "o1", NULL), CORE_OK);
    assert_string_equal(l.id, "l1");
    assert_string_equal(l.order_id, "o1");
    assert_string_equal(l.assigned_bot_id, "");
    assert_int_equal(l.status, DEPOT_LIST_AVAILABLE);
    assert_int_equal(l.nstops, 0);
    depot_shopping_list_release(&l);
    depot_shopping_list_release(NULL); /* no-op */
}

static void create_checks_its_ids(void **state)
{
    (void)state;
    static const struct {
        const char *id, *order_id, *text;
    } cases[] = {
        {"", "o1", "the shopping list id cannot be blank"},
        {NULL, "o1", "the shopping list id cannot be blank"},
        {long_id, "o1", "the shopping list id is too long"},
        {"l1", " \t", "the order id cannot be blank"},
        {"l1", long_id, "the order id is too long"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct depot_shopping_list l = DEPOT_SHOPPING_LIST_INIT;
        core_err err = CORE_ERR_INIT;
        assert_int_equal(depot_shopping_list_create(&l, cases[i].id, cases[i].order_id, &err),
                         CORE_ERR_INVALID);
        assert_string_equal(err.msg, cases[i].text);
    }
}

/* ---- items and stops ------------------------------------------------------------------------- */

static void add_item_groups_items_by_store(void **state)
{
    (void)state;
    struct depot_shopping_list l;
    given_list(&l);
    assert_int_equal(l.nstops, 2);
    assert_string_equal(l.stops[0].store_id, "s1");
    assert_string_equal(l.stops[0].store_name, "Waldorf Books");
    assert_string_equal(l.stops[0].store_location, "West Upper Level");
    assert_int_equal(l.stops[0].nitems, 2);
    assert_string_equal(l.stops[0].items[0].product_id, "p1");
    assert_string_equal(l.stops[0].items[0].product_name, "EDA with Golang");
    assert_int_equal(l.stops[0].items[0].quantity, 2);
    assert_string_equal(l.stops[0].items[1].product_id, "p2");
    assert_int_equal(l.stops[0].items[1].quantity, 1);
    assert_string_equal(l.stops[1].store_id, "s2");
    assert_string_equal(l.stops[1].store_name, "Nic & Naks");
    assert_int_equal(l.stops[1].nitems, 1);
    assert_string_equal(l.stops[1].items[0].product_name, "Wizard w/ crystal");
    assert_int_equal(l.stops[1].items[0].quantity, 3);
    depot_shopping_list_release(&l);
    assert_int_equal(l.nstops, 0);
    assert_null(l.stops);
}

static void add_item_adds_up_a_repeated_product(void **state)
{
    (void)state;
    struct depot_shopping_list l;
    given_list(&l);
    assert_int_equal(depot_shopping_list_add_item(&l, &s1, &p1, 5, NULL), CORE_OK);
    assert_int_equal(l.nstops, 2);
    assert_int_equal(l.stops[0].nitems, 2);
    assert_int_equal(l.stops[0].items[0].quantity, 7);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(depot_shopping_list_add_item(&l, &s1, &p1, INT_MAX, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the item quantity is too large");
    assert_int_equal(l.stops[0].items[0].quantity, 7);
    depot_shopping_list_release(&l);
}

static void add_item_rejects_bad_quantities_and_foreign_products(void **state)
{
    (void)state;
    struct depot_shopping_list l;
    given_list(&l);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(depot_shopping_list_add_item(&l, &s2, &p1, 0, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the item quantity must be positive");
    assert_int_equal(depot_shopping_list_add_item(&l, &s2, &p1, -4, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the item quantity must be positive");
    assert_int_equal(depot_shopping_list_add_item(&l, &s2, &p1, 1, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "product p1 is not sold by store s2");
    assert_int_equal(l.stops[1].nitems, 1);
    /* a product without a store id is taken as sold where the order says; NULL names become "" */
    struct depot_store bare_store = {"s3", NULL, NULL};
    struct depot_product bare = {"p9", NULL, NULL};
    assert_int_equal(depot_shopping_list_add_item(&l, &bare_store, &bare, 1, &err), CORE_OK);
    assert_int_equal(l.nstops, 3);
    assert_string_equal(l.stops[2].store_name, "");
    assert_string_equal(l.stops[2].store_location, "");
    assert_string_equal(l.stops[2].items[0].product_name, "");
    depot_shopping_list_release(&l);
}

static void add_item_out_of_memory_leaves_the_list_unchanged(void **state)
{
    (void)state;
    /* every allocation of both paths (new stop, new item at an existing stop) fails in turn */
    const struct depot_store *stores[] = {&s2, &s1};
    struct depot_product fresh_at_s2 = {"p4", "s2", "Crystal ball"};
    struct depot_product fresh_at_s1 = {"p5", "s1", "Big book"};
    const struct depot_product *products[] = {&fresh_at_s2, &fresh_at_s1};
    struct depot_store s4 = {"s4", "Shop 4", "Level 4"};
    struct depot_product p6 = {"p6", "s4", "Thing"};
    const struct depot_store *new_stop_store = &s4;
    for (int path = 0; path < 3; path++) {
        const struct depot_store *store = path < 2 ? stores[path] : new_stop_store;
        const struct depot_product *product = path < 2 ? products[path] : &p6;
        for (long n = 0;; n++) {
            struct depot_shopping_list l;
            given_list(&l);
            long live = core_alloc_live();
            core_err err = CORE_ERR_INIT;
            core_alloc_fail_after(n);
            core_status st = depot_shopping_list_add_item(&l, store, product, 1, &err);
            core_alloc_fail_after(-1);
            if (st == CORE_OK) {
                assert_true(n > 0);
                depot_shopping_list_release(&l);
                break;
            }
            assert_int_equal(st, CORE_ERR_NOMEM);
            assert_int_equal(core_alloc_live(), live);
            assert_int_equal(l.nstops, 2);
            assert_int_equal(l.stops[0].nitems, 2);
            assert_int_equal(l.stops[1].nitems, 1);
            depot_shopping_list_release(&l);
        }
    }
}

/* ---- cancel, assign, complete ---------------------------------------------------------------- */

static void cancel_works_until_the_list_is_done(void **state)
{
    (void)state;
    static const struct {
        enum depot_list_status from;
        core_status want;
    } cases[] = {
        {DEPOT_LIST_AVAILABLE, CORE_OK},
        {DEPOT_LIST_ASSIGNED, CORE_OK},
        {DEPOT_LIST_ACTIVE, CORE_OK},
        {DEPOT_LIST_COMPLETED, CORE_ERR_INVALID},
        {DEPOT_LIST_CANCELLED, CORE_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct depot_shopping_list l = DEPOT_SHOPPING_LIST_INIT;
        core_err err = CORE_ERR_INIT;
        l.status = cases[i].from;
        assert_int_equal(depot_shopping_list_cancel(&l, &err), cases[i].want);
        if (cases[i].want == CORE_OK) {
            assert_int_equal(l.status, DEPOT_LIST_CANCELLED);
        } else {
            assert_string_equal(err.msg, "the shopping list cannot be cancelled");
            assert_int_equal(l.status, cases[i].from);
        }
        depot_shopping_list_release(&l); /* the recorded event */
    }
}

static void assign_needs_an_available_list_and_a_bot(void **state)
{
    (void)state;
    struct depot_shopping_list l;
    given_list(&l);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(depot_shopping_list_assign(&l, "", &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the bot id cannot be blank");
    assert_int_equal(depot_shopping_list_assign(&l, long_id, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the bot id is too long");
    assert_int_equal(l.status, DEPOT_LIST_AVAILABLE);
    assert_string_equal(l.assigned_bot_id, "");

    assert_int_equal(depot_shopping_list_assign(&l, "bot-7", &err), CORE_OK);
    assert_int_equal(l.status, DEPOT_LIST_ASSIGNED);
    assert_string_equal(l.assigned_bot_id, "bot-7");

    static const enum depot_list_status others[] = {DEPOT_LIST_ASSIGNED, DEPOT_LIST_ACTIVE,
                                                    DEPOT_LIST_COMPLETED, DEPOT_LIST_CANCELLED};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        l.status = others[i];
        assert_int_equal(depot_shopping_list_assign(&l, "bot-8", &err), CORE_ERR_INVALID);
        assert_string_equal(err.msg, "the shopping list cannot be assigned");
        assert_string_equal(l.assigned_bot_id, "bot-7");
        assert_int_equal(l.status, others[i]);
    }
    depot_shopping_list_release(&l);
}

static void complete_needs_an_assigned_list(void **state)
{
    (void)state;
    static const enum depot_list_status others[] = {DEPOT_LIST_AVAILABLE, DEPOT_LIST_ACTIVE,
                                                    DEPOT_LIST_COMPLETED, DEPOT_LIST_CANCELLED};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        struct depot_shopping_list l = DEPOT_SHOPPING_LIST_INIT;
        core_err err = CORE_ERR_INIT;
        l.status = others[i];
        assert_int_equal(depot_shopping_list_complete(&l, &err), CORE_ERR_INVALID);
        assert_string_equal(err.msg, "the shopping list cannot be completed");
        assert_int_equal(l.status, others[i]);
    }
    struct depot_shopping_list l = DEPOT_SHOPPING_LIST_INIT;
    l.status = DEPOT_LIST_ASSIGNED;
    assert_int_equal(depot_shopping_list_complete(&l, NULL), CORE_OK);
    assert_int_equal(l.status, DEPOT_LIST_COMPLETED);
    depot_shopping_list_release(&l);
}

/* ---- domain events (chapter 04) -------------------------------------------------------------- */

/* The i-th event l recorded, checked to be named name, to carry a payload of type desc and the
 * metadata of the list l; returns its payload. */
static const void *recorded(const struct depot_shopping_list *l, size_t i, const char *name,
                            const ProtobufCMessageDescriptor *desc)
{
    assert_true(i < l->agg.events.n);
    const ddd_event *ev = l->agg.events.items[i];
    assert_string_equal(ddd_event_name(ev), name);
    assert_true(ddd_event_payload_is(ev, desc));
    assert_string_equal(ddd_event_metadata(ev, "aggregate-name"), "depot.ShoppingList");
    assert_string_equal(ddd_event_metadata(ev, "aggregate-id"), l->id);
    assert_true(core_uuid_valid(ddd_event_id(ev)));
    return ddd_event_payload(ev);
}

static void each_change_records_its_event(void **state)
{
    (void)state;
    struct depot_shopping_list l;
    core_err err = CORE_ERR_INIT;
    given_list(&l); /* create + three add_item: only create records */
    assert_int_equal(l.agg.events.n, 1);
    assert_string_equal(l.agg.id, "l1");
    const Depot__Domain__ShoppingListCreated *created = recorded(
        &l, 0, "depot.ShoppingListCreated", &depot__domain__shopping_list_created__descriptor);
    assert_string_equal(created->order_id, "o1");

    assert_int_equal(depot_shopping_list_complete(&l, &err), CORE_ERR_INVALID); /* refused */
    assert_int_equal(l.agg.events.n, 1);
    assert_int_equal(depot_shopping_list_assign(&l, "bot-7", &err), CORE_OK);
    const Depot__Domain__ShoppingListAssigned *assigned = recorded(
        &l, 1, "depot.ShoppingListAssigned", &depot__domain__shopping_list_assigned__descriptor);
    assert_string_equal(assigned->order_id, "o1");
    assert_string_equal(assigned->bot_id, "bot-7");
    assert_int_equal(depot_shopping_list_assign(&l, "bot-8", &err), CORE_ERR_INVALID);
    assert_int_equal(l.agg.events.n, 2);

    assert_int_equal(depot_shopping_list_complete(&l, &err), CORE_OK);
    const Depot__Domain__ShoppingListCompleted *completed = recorded(
        &l, 2, "depot.ShoppingListCompleted", &depot__domain__shopping_list_completed__descriptor);
    assert_string_equal(completed->order_id, "o1");
    assert_int_equal(depot_shopping_list_cancel(&l, &err), CORE_ERR_INVALID); /* refused */
    assert_int_equal(l.agg.events.n, 3);

    /* handed over once, in order */
    struct ddd_event_list events = DDD_EVENT_LIST_INIT;
    assert_int_equal(ddd_aggregate_take_events(&l.agg, &events, &err), CORE_OK);
    assert_int_equal(events.n, 3);
    assert_string_equal(ddd_event_name(events.items[2]), "depot.ShoppingListCompleted");
    assert_int_equal(l.agg.events.n, 0);
    ddd_event_list_release(&events);
    depot_shopping_list_release(&l);
}

static void cancel_records_the_canceled_event(void **state)
{
    (void)state;
    struct depot_shopping_list l;
    core_err err = CORE_ERR_INIT;
    given_list(&l);
    ddd_aggregate_clear_events(&l.agg);
    assert_int_equal(depot_shopping_list_cancel(&l, &err), CORE_OK);
    assert_int_equal(l.agg.events.n, 1);
    const Depot__Domain__ShoppingListCanceled *canceled = recorded(
        &l, 0, "depot.ShoppingListCanceled", &depot__domain__shopping_list_canceled__descriptor);
    assert_string_equal(canceled->order_id, "o1");
    depot_shopping_list_release(&l);
    assert_int_equal(l.agg.events.n, 0);
}

static void recording_out_of_memory_leaves_the_list_unchanged(void **state)
{
    (void)state;
    for (int step = 0; step < 4; step++) {
        int failures = 0;
        for (long n = 0;; n++) {
            struct depot_shopping_list l = DEPOT_SHOPPING_LIST_INIT;
            core_err err = CORE_ERR_INIT;
            if (step > 0) {
                given_list(&l);
                ddd_aggregate_clear_events(&l.agg);
                if (step == 3)
                    l.status = DEPOT_LIST_ASSIGNED;
            }
            long live = core_alloc_live();
            enum depot_list_status before = l.status;
            core_alloc_fail_after(n);
            core_status st = step == 0   ? depot_shopping_list_create(&l, "l1", "o1", &err)
                             : step == 1 ? depot_shopping_list_cancel(&l, &err)
                             : step == 2 ? depot_shopping_list_assign(&l, "bot-1", &err)
                                         : depot_shopping_list_complete(&l, &err);
            core_alloc_fail_after(-1);
            if (st == CORE_OK) {
                assert_int_equal(l.agg.events.n, 1);
                depot_shopping_list_release(&l);
                break;
            }
            assert_int_equal(st, CORE_ERR_NOMEM);
            assert_int_equal(l.agg.events.n, 0);
            assert_int_equal(l.status, before);
            assert_string_equal(l.assigned_bot_id, "");
            assert_int_equal(core_alloc_live(), live);
            depot_shopping_list_release(&l);
            failures++;
        }
        assert_true(failures > 0);
    }
}

/* ---- stops JSON (the stops column) ----------------------------------------------------------- */

static void stops_encode_to_the_documented_json(void **state)
{
    (void)state;
    struct depot_shopping_list l;
    given_list(&l);
    char *json = NULL;
    assert_int_equal(depot__stops_encode(&l, &json, NULL), CORE_OK);
    assert_string_equal(
        json, "{\"s1\":{\"store_name\":\"Waldorf Books\",\"store_location\":\"West Upper Level\","
              "\"items\":{\"p1\":{\"name\":\"EDA with Golang\",\"quantity\":2},"
              "\"p2\":{\"name\":\"C Interfaces\",\"quantity\":1}}},"
              "\"s2\":{\"store_name\":\"Nic & Naks\",\"store_location\":\"East Lower Level\","
              "\"items\":{\"p3\":{\"name\":\"Wizard w/ crystal\",\"quantity\":3}}}}");
    core_free(json);
    depot_shopping_list_release(&l);

    struct depot_shopping_list empty = DEPOT_SHOPPING_LIST_INIT;
    assert_int_equal(depot__stops_encode(&empty, &json, NULL), CORE_OK);
    assert_string_equal(json, "{}");
    core_free(json);
}

static void stops_survive_a_round_trip(void **state)
{
    (void)state;
    struct depot_shopping_list l, back = DEPOT_SHOPPING_LIST_INIT;
    given_list(&l);
    char *json = NULL;
    assert_int_equal(depot__stops_encode(&l, &json, NULL), CORE_OK);
    assert_int_equal(depot__stops_decode(&back, json, NULL), CORE_OK);
    assert_int_equal(back.nstops, l.nstops);
    for (size_t i = 0; i < l.nstops; i++) {
        assert_string_equal(back.stops[i].store_id, l.stops[i].store_id);
        assert_string_equal(back.stops[i].store_name, l.stops[i].store_name);
        assert_string_equal(back.stops[i].store_location, l.stops[i].store_location);
        assert_int_equal(back.stops[i].nitems, l.stops[i].nitems);
        for (size_t j = 0; j < l.stops[i].nitems; j++) {
            assert_string_equal(back.stops[i].items[j].product_id, l.stops[i].items[j].product_id);
            assert_string_equal(back.stops[i].items[j].product_name,
                                l.stops[i].items[j].product_name);
            assert_int_equal(back.stops[i].items[j].quantity, l.stops[i].items[j].quantity);
        }
    }
    core_free(json);
    depot_shopping_list_release(&l);
    depot_shopping_list_release(&back);
}

static void stops_decode_rejects_bad_json(void **state)
{
    (void)state;
    static const struct {
        const char *json, *text; /* text: start of the expected message */
    } cases[] = {
        {"", "stops JSON: "},
        {"[]", "stops JSON: not an object"},
        {"{\"s1\":{\"store_name\":\"a\",\"store_location\":\"b\",\"items\":{}},}", "stops JSON: "},
        {"{\"s1\":{\"store_name\":\"a\",\"items\":{}}}", "stop s1: "},
        {"{\"s1\":{\"store_name\":\"a\",\"store_location\":\"b\",\"items\":{},\"x\":1}}",
         "stop s1: "},
        {"{\"s1\":{\"store_name\":\"a\",\"store_location\":\"b\",\"items\":[]}}",
         "stop s1: items is not an object"},
        {"{\"s1\":{\"store_name\":\"a\",\"store_location\":\"b\",\"items\":{\"p1\":{\"name\":\"n\"}"
         "}}}",
         "stop s1, item p1: "},
        {"{\"s1\":{\"store_name\":\"a\",\"store_location\":\"b\",\"items\":{\"p1\":{\"name\":\"n\","
         "\"quantity\":0}}}}",
         "stop s1, item p1: quantity 0 out of range"},
        {"{\"s1\":{\"store_name\":\"a\",\"store_location\":\"b\",\"items\":{\"p1\":{\"name\":\"n\","
         "\"quantity\":3000000000}}}}",
         "stop s1, item p1: quantity 3000000000 out of range"},
        {"{\"s1\":{\"store_name\":\"a\",\"store_location\":\"b\",\"items\":{}},"
         "\"s1\":{\"store_name\":\"a\",\"store_location\":\"b\",\"items\":{}}}",
         "stops JSON: "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct depot_shopping_list l = DEPOT_SHOPPING_LIST_INIT;
        core_err err = CORE_ERR_INIT;
        assert_int_equal(depot_shopping_list_create(&l, "l1", "o1", NULL), CORE_OK);
        l.status = DEPOT_LIST_ASSIGNED;
        assert_int_equal(depot__stops_decode(&l, cases[i].json, &err), CORE_ERR_INVALID);
        assert_memory_equal(err.msg, cases[i].text, strlen(cases[i].text));
        /* the ids and status stay, no stop is left behind */
        assert_int_equal(l.nstops, 0);
        assert_null(l.stops);
        assert_string_equal(l.id, "l1");
        assert_int_equal(l.status, DEPOT_LIST_ASSIGNED);
        assert_int_equal(l.agg.events.n, 1); /* the recorded events stay too */
        depot_shopping_list_release(&l);
    }
}

static void stops_decode_drops_partial_stops_on_failure(void **state)
{
    (void)state;
    struct depot_shopping_list l = DEPOT_SHOPPING_LIST_INIT;
    core_err err = CORE_ERR_INIT;
    const char *json =
        "{\"s1\":{\"store_name\":\"a\",\"store_location\":\"b\",\"items\":{\"p1\":{\"name\":\"n\","
        "\"quantity\":2}}},\"s2\":{\"store_name\":\"c\"}}";
    assert_int_equal(depot__stops_decode(&l, json, &err), CORE_ERR_INVALID);
    assert_int_equal(l.nstops, 0);
}

static void stops_encode_out_of_memory(void **state)
{
    (void)state;
    struct depot_shopping_list l;
    given_list(&l);
    char *json = (char *)"unchanged";
    core_err err = CORE_ERR_INIT;
    core_alloc_fail_after(0);
    core_status st = depot__stops_encode(&l, &json, &err);
    core_alloc_fail_after(-1);
    assert_int_equal(st, CORE_ERR_NOMEM);
    assert_null(json);
    depot_shopping_list_release(&l);
}

int main(void)
{
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(status_texts_round_trip),
        T(create_starts_an_available_empty_list),
        T(create_checks_its_ids),
        T(add_item_groups_items_by_store),
        T(add_item_adds_up_a_repeated_product),
        T(add_item_rejects_bad_quantities_and_foreign_products),
        T(add_item_out_of_memory_leaves_the_list_unchanged),
        T(cancel_works_until_the_list_is_done),
        T(assign_needs_an_available_list_and_a_bot),
        T(complete_needs_an_assigned_list),
        T(each_change_records_its_event),
        T(cancel_records_the_canceled_event),
        T(recording_out_of_memory_leaves_the_list_unchanged),
        T(stops_encode_to_the_documented_json),
        T(stops_survive_a_round_trip),
        T(stops_decode_rejects_bad_json),
        T(stops_decode_drops_partial_stops_on_failure),
        T(stops_encode_out_of_memory),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
