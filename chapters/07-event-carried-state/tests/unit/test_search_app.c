/* test_search_app.c -- unit tests of search/application.h and search/handlers.h with the fakes of
 * tests/support/search_fakes.h: the read-model writer (the names from the caches, the total, the
 * time, an unknown name stored as "", a cache or repository failure passed up with nothing
 * stored, malformed events refused), its idempotency (the same event twice, events out of order,
 * a status event before OrderCreated), the handler's dispatch by event name, its subscription
 * (on the in-memory stream: a group of its own next to the notifications', a failed delivery
 * delivered again), GetOrder, and the paging of SearchOrders (one more row asked for, the token of
 * the last row, the last page without one). No servers. Every test checks it leaks nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "am.h"
#include "core.h"
#include "pb.h"
#include "search/application.h"
#include "ordering/events.h"
#include "search/handlers.h"
#include "search_fakes.h"

static const struct search_fake_name customers[] = {{"c1", "Ada", NULL}, {NULL, NULL, NULL}};
static const struct search_fake_name stores[] = {
    {"s1", "Lamp Land", NULL}, {"s2", "Candle Corner", NULL}, {NULL, NULL, NULL}};
static const struct search_fake_name products[] = {{"p1", "Lava Lamp", "s1"},
                                                   {"p2", "Beeswax Candle", "s2"},
                                                   {"p3", "Lamp Shade", "s1"},
                                                   {NULL, NULL, NULL}};

static struct search_fake_orders db;
static struct search_fake_caches caches;
static struct search_app app;
static long live_at_start;

static int setup(void **state)
{
    (void)state;
    live_at_start = core_alloc_live();
    memset(&db, 0, sizeof db);
    caches = (struct search_fake_caches){customers, stores, products, NULL, 0};
    search_fake_orders_port(&app.orders, &db);
    search_fake_caches_port(&app.caches, &caches);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    search_fake_orders_release(&db);
    assert_int_equal(core_alloc_live(), live_at_start);
    return 0;
}

/* ---- events as the stream would hand them over --------------------------------------------- */

static Ordersapi__OrderCreated__Item item_p1 = ORDERSAPI__ORDER_CREATED__ITEM__INIT;
static Ordersapi__OrderCreated__Item item_p2 = ORDERSAPI__ORDER_CREATED__ITEM__INIT;

/* OrderCreated of order id for customer c1: 2 x p1 at 10.50 (store s1), 1 x p2 at 4.25 (s2). */
static Ordersapi__OrderCreated created_msg(const char *id, Ordersapi__OrderCreated__Item **items)
{
    Ordersapi__OrderCreated m = ORDERSAPI__ORDER_CREATED__INIT;
    item_p1.product_id = "p1", item_p1.store_id = "s1", item_p1.price = 10.5, item_p1.quantity = 2;
    item_p2.product_id = "p2", item_p2.store_id = "s2", item_p2.price = 4.25, item_p2.quantity = 1;
    items[0] = &item_p1;
    items[1] = &item_p2;
    m.id = (char *)id;
    m.customer_id = "c1";
    m.payment_id = "pay1";
    m.shopping_id = "shop1";
    m.n_items = 2;
    m.items = items;
    return m;
}

static void created(const char *id, int64_t at)
{
    core_err err = CORE_ERR_INIT;
    Ordersapi__OrderCreated__Item *items[2];
    Ordersapi__OrderCreated m = created_msg(id, items);
    assert_int_equal(search_app_order_created(&app, &m, at, &err), CORE_OK);
}

static void readied(const char *id, double total)
{
    core_err err = CORE_ERR_INIT;
    Ordersapi__OrderReadied m = ORDERSAPI__ORDER_READIED__INIT;
    m.id = (char *)id;
    m.total = total;
    assert_int_equal(search_app_order_readied(&app, &m, &err), CORE_OK);
}

static void canceled(const char *id)
{
    core_err err = CORE_ERR_INIT;
    Ordersapi__OrderCanceled m = ORDERSAPI__ORDER_CANCELED__INIT;
    m.id = (char *)id;
    assert_int_equal(search_app_order_canceled(&app, &m, &err), CORE_OK);
}

static void completed(const char *id)
{
    core_err err = CORE_ERR_INIT;
    Ordersapi__OrderCompleted m = ORDERSAPI__ORDER_COMPLETED__INIT;
    m.id = (char *)id;
    m.invoice_id = "inv1";
    assert_int_equal(search_app_order_completed(&app, &m, &err), CORE_OK);
}

static const char *status_of(const char *id)
{
    struct search_fake_row *r = search_fake_row(&db, id);
    assert_non_null(r);
    return r->order.status;
}

/* ---- the writer --------------------------------------------------------------------------------
 */

static void order_created_fills_in_the_names(void **state)
{
    (void)state;
    created("o1", 1765072800123456);
    struct search_fake_row *r = search_fake_row(&db, "o1");
    assert_non_null(r);
    assert_false(r->placeholder);
    const struct search_order *o = &r->order;
    assert_string_equal(o->customer_id, "c1");
    assert_string_equal(o->customer_name, "Ada");
    assert_string_equal(o->status, "New");
    assert_true(o->created_us == 1765072800123456);
    assert_true(o->total == 2 * 10.5 + 4.25);
    assert_int_equal(o->nitems, 2);
    assert_string_equal(o->items[0].product_name, "Lava Lamp");
    assert_string_equal(o->items[0].store_name, "Lamp Land");
    assert_string_equal(o->items[0].store_id, "s1");
    assert_int_equal(o->items[0].quantity, 2);
    assert_true(o->items[0].price == 10.5);
    assert_string_equal(o->items[1].product_name, "Beeswax Candle");
    assert_string_equal(o->items[1].store_name, "Candle Corner");
    assert_int_equal(db.writes, 1);
}

static void statuses_follow_the_events(void **state)
{
    (void)state;
    created("o1", 100);
    readied("o1", 25.25);
    assert_string_equal(status_of("o1"), "Ready For Pickup");
    assert_true(search_fake_row(&db, "o1")->order.total == 25.25);
    completed("o1");
    assert_string_equal(status_of("o1"), "Completed");
    created("o2", 200);
    canceled("o2");
    assert_string_equal(status_of("o2"), "Canceled");
}

static void the_same_event_twice_leaves_the_row_right(void **state)
{
    (void)state;
    created("o1", 100);
    created("o1", 100);
    assert_int_equal(db.n, 1);
    assert_int_equal(search_fake_row(&db, "o1")->order.nitems, 2); /* not 4 */
    readied("o1", 25.25);
    readied("o1", 25.25);
    assert_string_equal(status_of("o1"), "Ready For Pickup");
    completed("o1");
    completed("o1");
    assert_string_equal(status_of("o1"), "Completed");
    /* OrderCreated redelivered after the order moved on keeps the later status */
    created("o1", 100);
    assert_string_equal(status_of("o1"), "Completed");
    assert_int_equal(search_fake_row(&db, "o1")->order.nitems, 2);
}

static void a_late_status_event_never_goes_back(void **state)
{
    (void)state;
    created("o1", 100);
    completed("o1");
    readied("o1", 25.25); /* arrives after Completed (a redelivery) */
    assert_string_equal(status_of("o1"), "Completed");
}

static void a_status_before_order_created_waits_in_a_placeholder(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct search_order o = SEARCH_ORDER_INIT;
    readied("o9", 25.25);
    assert_true(search_fake_row(&db, "o9")->placeholder);
    /* not visible yet */
    assert_int_equal(search_app_get_order(&app, "o9", &o, &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "order o9 not found");
    search_order_release(&o);
    created("o9", 100);
    assert_int_equal(search_app_get_order(&app, "o9", &o, &err), CORE_OK);
    assert_string_equal(o.status, "Ready For Pickup"); /* kept, not back to New */
    assert_string_equal(o.customer_name, "Ada");
    assert_int_equal(o.nitems, 2);
    search_order_release(&o);
}

static void unknown_names_are_stored_blank(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    Ordersapi__OrderCreated__Item *items[2];
    Ordersapi__OrderCreated m = created_msg("o1", items);
    m.customer_id = "c-gone";
    item_p2.product_id = "p-gone";
    item_p2.store_id = "s-gone";
    assert_int_equal(search_app_order_created(&app, &m, 5, &err), CORE_OK);
    const struct search_order *o = &search_fake_row(&db, "o1")->order;
    assert_string_equal(o->customer_id, "c-gone");
    assert_string_equal(o->customer_name, "");
    assert_string_equal(o->items[0].product_name, "Lava Lamp");
    assert_string_equal(o->items[1].product_id, "p-gone");
    assert_string_equal(o->items[1].product_name, "");
    assert_string_equal(o->items[1].store_name, "");
}

static void an_item_without_store_takes_the_products(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    Ordersapi__OrderCreated__Item *items[2];
    Ordersapi__OrderCreated m = created_msg("o1", items);
    item_p1.product_id = "p3"; /* Lamp Shade of s1 */
    item_p1.store_id = "";
    assert_int_equal(search_app_order_created(&app, &m, 5, &err), CORE_OK);
    const struct search_order *o = &search_fake_row(&db, "o1")->order;
    assert_string_equal(o->items[0].store_id, "s1");
    assert_string_equal(o->items[0].store_name, "Lamp Land");
}

static void a_failing_cache_or_table_stores_nothing(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    Ordersapi__OrderCreated__Item *items[2];
    const char *ops[] = {"customer", "store", "product"};
    for (size_t i = 0; i < 3; i++) {
        Ordersapi__OrderCreated m = created_msg("o1", items);
        caches.fail_op = ops[i];
        assert_int_equal(search_app_order_created(&app, &m, 5, &err), CORE_ERR_UNAVAILABLE);
        assert_string_equal(err.msg, "owner unreachable");
        assert_int_equal(db.n, 0);
    }
    caches.fail_op = NULL;
    db.fail_op = "save_created";
    Ordersapi__OrderCreated m = created_msg("o1", items);
    assert_int_equal(search_app_order_created(&app, &m, 5, &err), CORE_ERR_IO);
    db.fail_op = "save_status";
    Ordersapi__OrderCanceled c = ORDERSAPI__ORDER_CANCELED__INIT;
    c.id = "o1";
    assert_int_equal(search_app_order_canceled(&app, &c, &err), CORE_ERR_IO);
    assert_int_equal(db.n, 0);
}

static void malformed_events_are_refused(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    Ordersapi__OrderCreated__Item *items[2];
    Ordersapi__OrderCreated m = created_msg("", items);
    assert_int_equal(search_app_order_created(&app, &m, 5, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "ordersapi.OrderCreated has no order id");
    m = created_msg("o1", items);
    item_p2.quantity = 0;
    assert_int_equal(search_app_order_created(&app, &m, 5, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "ordersapi.OrderCreated o1: item 1 has quantity 0");
    m = created_msg("o1", items);
    item_p1.product_id = " ";
    assert_int_equal(search_app_order_created(&app, &m, 5, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "ordersapi.OrderCreated o1: item 0 has no product id");
    Ordersapi__OrderReadied r = ORDERSAPI__ORDER_READIED__INIT;
    assert_int_equal(search_app_order_readied(&app, &r, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "ordersapi.OrderReadied has no order id");
    assert_int_equal(db.n, 0);
}

/* ---- the handler -------------------------------------------------------------------------------
 */

/* A new event named name with payload (ownership taken) at time sec.000007. */
static ddd_event *event_of(const char *name, ProtobufCMessage *payload, time_t sec)
{
    core_err err = CORE_ERR_INIT;
    ddd_event *ev = NULL;
    assert_non_null(payload);
    assert_int_equal(ddd_event_new(&ev, name, &payload, &err), CORE_OK);
    struct timespec at = {sec, 7000};
    assert_int_equal(ddd_event_restore(ev, "ev-1", at, &err), CORE_OK);
    return ev;
}

static void the_handler_dispatches_by_name(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    Ordersapi__OrderCreated *c = pb_new_of(ordersapi__order_created);
    assert_non_null(c);
    assert_int_equal(pb_set_string(&c->id, "o1", &err), CORE_OK);
    assert_int_equal(pb_set_string(&c->customer_id, "c1", &err), CORE_OK);
    ddd_event *ev = event_of(ORDERSAPI_ORDER_CREATED, &c->base, 1765072800);
    assert_int_equal(search_handle_order_event(&app, ev, &err), CORE_OK);
    ddd_event_free(ev);
    assert_true(search_fake_row(&db, "o1")->order.created_us == 1765072800000007);
    assert_string_equal(search_fake_row(&db, "o1")->order.customer_name, "Ada");

    const char *names[] = {ORDERSAPI_ORDER_READIED, ORDERSAPI_ORDER_COMPLETED};
    const char *want[] = {"Ready For Pickup", "Completed"};
    for (int i = 0; i < 2; i++) {
        ProtobufCMessage *p = NULL;
        if (i == 0) {
            Ordersapi__OrderReadied *r = pb_new_of(ordersapi__order_readied);
            assert_non_null(r);
            assert_int_equal(pb_set_string(&r->id, "o1", &err), CORE_OK);
            p = &r->base;
        } else {
            Ordersapi__OrderCompleted *r = pb_new_of(ordersapi__order_completed);
            assert_non_null(r);
            assert_int_equal(pb_set_string(&r->id, "o1", &err), CORE_OK);
            p = &r->base;
        }
        ev = event_of(names[i], p, 1);
        assert_int_equal(search_handle_order_event(&app, ev, &err), CORE_OK);
        ddd_event_free(ev);
        assert_string_equal(status_of("o1"), want[i]);
    }
    Ordersapi__OrderCanceled *x = pb_new_of(ordersapi__order_canceled);
    assert_non_null(x);
    assert_int_equal(pb_set_string(&x->id, "o2", &err), CORE_OK);
    ev = event_of(ORDERSAPI_ORDER_CANCELED, &x->base, 1);
    assert_int_equal(search_handle_order_event(&app, ev, &err), CORE_OK);
    ddd_event_free(ev);
    assert_string_equal(status_of("o2"), "Canceled");
}

static void the_handler_refuses_other_events(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    ddd_event *ev = event_of("ordersapi.OrderApproved", pb_new_of(ordersapi__order_canceled), 1);
    assert_int_equal(search_handle_order_event(&app, ev, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "search does not handle ordersapi.OrderApproved");
    ddd_event_free(ev);
    ev = event_of(ORDERSAPI_ORDER_READIED, pb_new_of(ordersapi__order_canceled), 1);
    assert_int_equal(search_handle_order_event(&app, ev, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "event ordersapi.OrderReadied ev-1 has no "
                                 "ordersapi.OrderReadied payload");
    ddd_event_free(ev);
    assert_int_equal(db.n, 0);
}

static void the_registry_knows_the_four_events(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    es_registry *reg = NULL;
    assert_int_equal(es_registry_new(&reg, &err), CORE_OK);
    assert_int_equal(ordering_register_integration_types(reg, &err), CORE_OK);
    assert_ptr_equal(es_registry_lookup(reg, "ordersapi.OrderCreated"),
                     &ordersapi__order_created__descriptor);
    assert_ptr_equal(es_registry_lookup(reg, "ordersapi.OrderReadied"),
                     &ordersapi__order_readied__descriptor);
    assert_ptr_equal(es_registry_lookup(reg, "ordersapi.OrderCanceled"),
                     &ordersapi__order_canceled__descriptor);
    assert_ptr_equal(es_registry_lookup(reg, "ordersapi.OrderCompleted"),
                     &ordersapi__order_completed__descriptor);
    assert_int_equal(ordering_register_integration_types(reg, &err), CORE_ERR_CONFLICT);
    es_registry_free(reg);
}

/* ---- the subscription, on the in-memory stream --------------------------------------------------
 */

static int notified; /* order events seen by the stand-in for notifications */

static core_status count_notification(void *ud, const struct am_delivery *d, const ddd_event *ev,
                                      core_err *err)
{
    (void)ud, (void)d, (void)ev, (void)err;
    notified++;
    return CORE_OK;
}

static void publish(am_stream *s, const char *name, ProtobufCMessage *payload)
{
    core_err err = CORE_ERR_INIT;
    ddd_event *ev = NULL;
    assert_int_equal(ddd_event_new(&ev, name, &payload, &err), CORE_OK);
    assert_int_equal(am_event_publish(s, ORDERING_ORDER_CHANNEL, ev, &err), CORE_OK);
    ddd_event_free(ev);
}

static void search_has_a_group_of_its_own(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    am_mem_broker *broker = NULL;
    am_stream *stream = NULL;
    es_registry *reg = NULL;
    assert_int_equal(am_mem_broker_new(&broker, &err), CORE_OK);
    assert_int_equal(am_mem_stream_new(&stream, broker, "mallbots", &err), CORE_OK);
    assert_int_equal(es_registry_new(&reg, &err), CORE_OK);
    assert_int_equal(ordering_register_integration_types(reg, &err), CORE_OK);
    assert_int_equal(search_subscribe_order_handlers(stream, reg, &app, &err), CORE_OK);
    /* the notifications' group on the same channel (the group the book's search shares) */
    struct am_sub_opts n = AM_SUB_OPTS_INIT;
    n.group = "notification-orders";
    notified = 0;
    assert_int_equal(
        am_event_subscribe(stream, ORDERING_ORDER_CHANNEL, &n, reg, count_notification, NULL, &err),
        CORE_OK);

    Ordersapi__OrderCreated *c = pb_new_of(ordersapi__order_created);
    assert_non_null(c);
    assert_int_equal(pb_set_string(&c->id, "o1", &err), CORE_OK);
    assert_int_equal(pb_set_string(&c->customer_id, "c1", &err), CORE_OK);
    publish(stream, ORDERSAPI_ORDER_CREATED, &c->base);
    Ordersapi__OrderReadied *r = pb_new_of(ordersapi__order_readied);
    assert_non_null(r);
    assert_int_equal(pb_set_string(&r->id, "o1", &err), CORE_OK);
    r->total = 7.5;
    publish(stream, ORDERSAPI_ORDER_READIED, &r->base);
    am_mem_broker_run(broker, NULL);

    /* both groups got both events */
    assert_int_equal(notified, 2);
    struct search_fake_row *row = search_fake_row(&db, "o1");
    assert_non_null(row);
    assert_false(row->placeholder);
    assert_string_equal(row->order.customer_name, "Ada");
    assert_string_equal(row->order.status, "Ready For Pickup");
    struct am_group_info info;
    assert_int_equal(am_stream_group_info(stream, SEARCH_ORDERS_GROUP, &info, &err), CORE_OK);
    assert_true(info.pending == 0 && info.ack_pending == 0);

    /* a failure is delivered again, and the row is right once it succeeds */
    db.fail_op = "save_status";
    Ordersapi__OrderCompleted *x = pb_new_of(ordersapi__order_completed);
    assert_non_null(x);
    assert_int_equal(pb_set_string(&x->id, "o1", &err), CORE_OK);
    publish(stream, ORDERSAPI_ORDER_COMPLETED, &x->base);
    for (int i = 0; i < 4; i++) /* a few deliveries: search's fail and are NAKed */
        am_mem_broker_step(broker);
    assert_true(am_mem_broker_last_nak_delay(broker) > 0);
    assert_string_equal(row->order.status, "Ready For Pickup");
    db.fail_op = NULL;
    am_mem_broker_run(broker, NULL);
    assert_string_equal(search_fake_row(&db, "o1")->order.status, "Completed");
    assert_int_equal(notified, 3);

    am_stream_free(stream);
    am_mem_broker_free(broker);
    es_registry_free(reg);
}

/* ---- the queries -------------------------------------------------------------------------------
 */

static void get_order_checks_the_id(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct search_order o = SEARCH_ORDER_INIT;
    assert_int_equal(search_app_get_order(&app, " ", &o, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the order id cannot be blank");
    assert_int_equal(search_app_get_order(&app, "nope", &o, &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "order nope not found");
    db.fail_op = "find";
    assert_int_equal(search_app_get_order(&app, "o1", &o, &err), CORE_ERR_IO);
    search_order_release(&o);
}

static void pages_end_with_a_token_until_the_last(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    char next[SEARCH_TOKEN_MAX], id[16];
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "o%d", i);
        created(id, 100 + i);
    }
    struct search_filters none = {0};
    struct search_order_list page = SEARCH_ORDER_LIST_INIT;
    assert_int_equal(search_app_search_orders(&app, &none, NULL, 2, &page, next, &err), CORE_OK);
    assert_int_equal(db.last_limit, 3); /* one more than the page, to know whether there is more */
    assert_int_equal(page.n, 2);
    assert_string_equal(page.items[0].order_id, "o4");
    assert_string_equal(page.items[1].order_id, "o3");
    assert_true(next[0] != '\0');
    search_order_list_release(&page);
    char token[SEARCH_TOKEN_MAX];
    core_strlcpy(token, next, sizeof token);
    assert_int_equal(search_app_search_orders(&app, &none, token, 2, &page, next, &err), CORE_OK);
    assert_int_equal(page.n, 2);
    assert_string_equal(page.items[0].order_id, "o2");
    assert_string_equal(page.items[1].order_id, "o1");
    search_order_list_release(&page);
    core_strlcpy(token, next, sizeof token);
    assert_int_equal(search_app_search_orders(&app, &none, token, 2, &page, next, &err), CORE_OK);
    assert_int_equal(page.n, 1);
    assert_string_equal(page.items[0].order_id, "o0");
    assert_string_equal(next, ""); /* the last page */
    search_order_list_release(&page);
    /* exactly a page full: no token either */
    assert_int_equal(search_app_search_orders(&app, &none, NULL, 5, &page, next, &err), CORE_OK);
    assert_int_equal(page.n, 5);
    assert_string_equal(next, "");
    search_order_list_release(&page);
}

static void search_refuses_bad_input_before_the_table(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    char next[SEARCH_TOKEN_MAX];
    struct search_order_list page = SEARCH_ORDER_LIST_INIT;
    struct search_filters bad = {.status = "Lost"};
    db.last_limit = -1;
    assert_int_equal(search_app_search_orders(&app, &bad, NULL, 0, &page, next, &err),
                     CORE_ERR_INVALID);
    struct search_filters none = {0};
    assert_int_equal(search_app_search_orders(&app, &none, "garbage!", 0, &page, next, &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, "next is not a page token of this search");
    assert_int_equal(search_app_search_orders(&app, &none, NULL, 101, &page, next, &err),
                     CORE_ERR_INVALID);
    assert_int_equal(db.last_limit, -1); /* the table was never asked */
    assert_int_equal(search_app_search_orders(&app, &none, NULL, 0, &page, next, &err), CORE_OK);
    assert_int_equal(db.last_limit, 21); /* the default page of 20, plus one */
    db.fail_op = "search";
    assert_int_equal(search_app_search_orders(&app, &none, NULL, 0, &page, next, &err),
                     CORE_ERR_IO);
    search_order_list_release(&page);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(order_created_fills_in_the_names),
        T(statuses_follow_the_events),
        T(the_same_event_twice_leaves_the_row_right),
        T(a_late_status_event_never_goes_back),
        T(a_status_before_order_created_waits_in_a_placeholder),
        T(unknown_names_are_stored_blank),
        T(an_item_without_store_takes_the_products),
        T(a_failing_cache_or_table_stores_nothing),
        T(malformed_events_are_refused),
        T(the_handler_dispatches_by_name),
        T(the_handler_refuses_other_events),
        T(the_registry_knows_the_four_events),
        T(search_has_a_group_of_its_own),
        T(get_order_checks_the_id),
        T(pages_end_with_a_token_until_the_last),
        T(search_refuses_bad_input_before_the_table),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
