/* test_cache_handlers.c -- unit tests (chapter 07): the integration event handlers that keep the
 * caches of baskets, depot, notifications and search, and the notifications' order handlers, on the
 * in-memory stream (am.h) with fake caches (cache_fakes.h) and a fake customers module.
 *
 * Each test publishes messages the way the stores, customers and ordering modules do, lets the
 * broker deliver them (am_mem_broker_run) and checks which cache writes the handlers made, with
 * which stream sequence, and what became of messages the handlers could not handle.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "am.h"
#include "cache_fakes.h"
#include "customers/events.pb-c.h"
#include "log.h"
#include "monolith/messages.h"
#include "notifications_fakes.h"
#include "ordering/events.pb-c.h"
#include "pb.h"
#include "stores/events.h"

struct fx {
    long live;
    am_mem_broker *b;
    am_stream *s;
    es_registry *reg;
    struct cache_fake cache;
    struct baskets_cache_handlers baskets;
    struct depot_cache_handlers depot;
    struct search_cache_handlers search;
    struct notifications_fake_customers customers;
    struct notifications_app app;
    struct notifications_handlers notifications;
    char log[4096]; /* the INFO records of the notifications module */
};

static void sink(void *ud, const char *line, size_t len)
{
    struct fx *f = ud;
    if (!strstr(line, "notifications:") || !strstr(line, "sending SMS"))
        return;
    size_t have = strlen(f->log);
    if (have + len + 1 < sizeof f->log) {
        memcpy(f->log + have, line, len);
        f->log[have + len] = '\0';
    }
}

static int setup(void **state)
{
    static struct fx f;
    memset(&f, 0, sizeof f);
    f.live = core_alloc_live();
    core_err err = CORE_ERR_INIT;
    if (am_mem_broker_new(&f.b, &err) || am_mem_stream_new(&f.s, f.b, "mallbots", &err) ||
        es_registry_new(&f.reg, &err) || monolith_register_messages(f.reg, &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    cache_fake_baskets(&f.baskets, &f.cache);
    cache_fake_depot(&f.depot, &f.cache);
    cache_fake_search(&f.search, &f.cache);
    cache_fake_customers(&f.notifications.customers, &f.cache);
    notifications_fake_customers_port(&f.app.customers, &f.customers);
    f.notifications.app = &f.app;
    log_sink_set(sink, &f);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    log_sink_set(NULL, NULL);
    am_stream_free(f->s);
    am_mem_broker_free(f->b);
    es_registry_free(f->reg);
    assert_int_equal(core_alloc_live(), f->live);
    return 0;
}

/* Publishes payload (taken) as message name on channel. */
static void publish(struct fx *f, const char *channel, const char *name, ProtobufCMessage *payload)
{
    ddd_event *ev = NULL;
    core_err err = CORE_ERR_INIT;
    assert_non_null(payload);
    assert_int_equal(ddd_event_new(&ev, name, &payload, &err), CORE_OK);
    assert_int_equal(am_event_publish(f->s, channel, ev, &err), CORE_OK);
    ddd_event_free(ev);
}

static void store_created(struct fx *f, const char *id, const char *name, const char *location)
{
    Storesapi__StoreCreated *m = pb_new_of(storesapi__store_created);
    assert_non_null(m);
    assert_int_equal(pb_set_string(&m->id, id, NULL), CORE_OK);
    assert_int_equal(pb_set_string(&m->name, name, NULL), CORE_OK);
    assert_int_equal(pb_set_string(&m->location, location, NULL), CORE_OK);
    publish(f, STORES_STORE_CHANNEL, STORESAPI_STORE_CREATED, &m->base);
}

static void store_rebranded(struct fx *f, const char *id, const char *name)
{
    Storesapi__StoreRebranded *m = pb_new_of(storesapi__store_rebranded);
    assert_non_null(m);
    assert_int_equal(pb_set_string(&m->id, id, NULL), CORE_OK);
    assert_int_equal(pb_set_string(&m->name, name, NULL), CORE_OK);
    publish(f, STORES_STORE_CHANNEL, STORESAPI_STORE_REBRANDED, &m->base);
}

static void store_toggled(struct fx *f, const char *id)
{
    Storesapi__StoreParticipationToggled *m = pb_new_of(storesapi__store_participation_toggled);
    assert_non_null(m);
    assert_int_equal(pb_set_string(&m->id, id, NULL), CORE_OK);
    m->participating = true;
    publish(f, STORES_STORE_CHANNEL, STORESAPI_STORE_PARTICIPATING_TOGGLED, &m->base);
}

static void product_added(struct fx *f, const char *id, const char *store_id, const char *name,
                          double price)
{
    Storesapi__ProductAdded *m = pb_new_of(storesapi__product_added);
    assert_non_null(m);
    assert_int_equal(pb_set_string(&m->id, id, NULL), CORE_OK);
    assert_int_equal(pb_set_string(&m->store_id, store_id, NULL), CORE_OK);
    assert_int_equal(pb_set_string(&m->name, name, NULL), CORE_OK);
    assert_int_equal(pb_set_string(&m->description, "", NULL), CORE_OK);
    assert_int_equal(pb_set_string(&m->sku, "SKU", NULL), CORE_OK);
    m->price = price;
    publish(f, STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_ADDED, &m->base);
}

static void product_rebranded(struct fx *f, const char *id, const char *name)
{
    Storesapi__ProductRebranded *m = pb_new_of(storesapi__product_rebranded);
    assert_non_null(m);
    assert_int_equal(pb_set_string(&m->id, id, NULL), CORE_OK);
    assert_int_equal(pb_set_string(&m->name, name, NULL), CORE_OK);
    assert_int_equal(pb_set_string(&m->description, "", NULL), CORE_OK);
    publish(f, STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_REBRANDED, &m->base);
}

/* with_price false: a message as chapter 06 published it (only the delta). */
static void price_changed(struct fx *f, const char *name, const char *id, double delta,
                          bool with_price, double price)
{
    Storesapi__ProductPriceChanged *m = pb_new_of(storesapi__product_price_changed);
    assert_non_null(m);
    assert_int_equal(pb_set_string(&m->id, id, NULL), CORE_OK);
    m->delta = delta;
    if (with_price) {
        m->new_price_case = STORESAPI__PRODUCT_PRICE_CHANGED__NEW_PRICE_PRICE;
        m->price = price;
    }
    publish(f, STORES_PRODUCT_CHANNEL, name, &m->base);
}

static void product_removed(struct fx *f, const char *id)
{
    Storesapi__ProductRemoved *m = pb_new_of(storesapi__product_removed);
    assert_non_null(m);
    assert_int_equal(pb_set_string(&m->id, id, NULL), CORE_OK);
    publish(f, STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_REMOVED, &m->base);
}

static void subscribe_baskets(struct fx *f)
{
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_subscribe_store_handlers(f->s, f->reg, &f->baskets, &err), CORE_OK);
}

static core_status count_msg(void *ud, const struct am_stored_msg *m, core_err *err)
{
    (void)m;
    (void)err;
    ++*(int *)ud;
    return CORE_OK;
}

/* How many messages the stream holds on subject. */
static int stored(struct fx *f, const char *subject)
{
    int n = 0;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(am_stream_read(f->s, subject, 1, count_msg, &n, &err), CORE_OK);
    return n;
}

/* ---- baskets ------------------------------------------------------------------------------- */

static void baskets_store_events_write_the_store_cache(void **state)
{
    struct fx *f = *state;
    subscribe_baskets(f);
    store_created(f, "s-1", "Waldorf Books", "Upper floor"); /* seq 1 */
    store_toggled(f, "s-1");                                 /* seq 2: nothing kept */
    store_rebranded(f, "s-1", "Waldorf & Co");               /* seq 3 */
    am_mem_broker_run(f->b, NULL);
    assert_string_equal(f->cache.log,
                        "stores.add(s-1,Waldorf Books,1) stores.rename(s-1,Waldorf & Co,3)");
}

static void baskets_product_events_write_the_product_cache(void **state)
{
    struct fx *f = *state;
    subscribe_baskets(f);
    product_added(f, "p-1", "s-1", "Atlas", 20);                              /* 1 */
    price_changed(f, STORESAPI_PRODUCT_PRICE_INCREASED, "p-1", 5, true, 25);  /* 2 */
    price_changed(f, STORESAPI_PRODUCT_PRICE_DECREASED, "p-1", -25, true, 0); /* 3: free */
    product_rebranded(f, "p-1", "Atlas II");                                  /* 4 */
    product_removed(f, "p-1");                                                /* 5 */
    am_mem_broker_run(f->b, NULL);
    assert_string_equal(f->cache.log, "products.add(p-1,s-1,Atlas,20.00,1) "
                                      "products.set_price(p-1,25.00,2) "
                                      "products.set_price(p-1,0.00,3) "
                                      "products.rebrand(p-1,Atlas II,4) products.remove(p-1,5)");
}

/* A price change as chapter 06 published it carries only the delta: the row is dropped, never
 * changed by the delta (which a redelivery would add twice). */
static void baskets_price_change_without_the_price_drops_the_row(void **state)
{
    struct fx *f = *state;
    subscribe_baskets(f);
    price_changed(f, STORESAPI_PRODUCT_PRICE_INCREASED, "p-1", 5, false, 0);
    am_mem_broker_run(f->b, NULL);
    assert_string_equal(f->cache.log, "products.remove(p-1,1)");
}

/* A cache that fails (the database restarting) fails the handler: the message comes again and the
 * write is made then, with the message's own sequence. */
static void baskets_failing_cache_gets_the_message_again(void **state)
{
    struct fx *f = *state;
    subscribe_baskets(f);
    f->cache.fail = CORE_ERR_UNAVAILABLE;
    f->cache.fail_times = 2;
    product_added(f, "p-1", "s-1", "Atlas", 20);
    price_changed(f, STORESAPI_PRODUCT_PRICE_INCREASED, "p-1", 5, true, 25);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(f->cache.fail_times, 0);
    assert_int_equal(f->cache.calls, 2);
    assert_non_null(strstr(f->cache.log, "products.add(p-1,s-1,Atlas,20.00,1)"));
    assert_non_null(strstr(f->cache.log, "products.set_price(p-1,25.00,2)"));
    assert_int_equal(stored(f, "mallbots.dead.>"), 0);
}

/* A message without the id of its store or product cannot be kept: it ends as a dead letter,
 * and the cache is not called. */
static void baskets_message_without_an_id_is_a_dead_letter(void **state)
{
    struct fx *f = *state;
    subscribe_baskets(f);
    product_added(f, "", "s-1", "Atlas", 20);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(f->cache.calls, 0);
    assert_int_equal(stored(f, "mallbots.dead.baskets-products"), 1);
}

/* ---- depot --------------------------------------------------------------------------------- */

static void depot_events_write_its_caches_with_the_location(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(depot_subscribe_store_handlers(f->s, f->reg, &f->depot, &err), CORE_OK);
    store_created(f, "s-1", "Waldorf Books", "Upper floor");                 /* store 1 */
    store_rebranded(f, "s-1", "Waldorf & Co");                               /* store 2 */
    product_added(f, "p-1", "s-1", "Atlas", 20);                             /* product 3 */
    price_changed(f, STORESAPI_PRODUCT_PRICE_INCREASED, "p-1", 5, true, 25); /* 4: not kept */
    product_rebranded(f, "p-1", "Atlas II");                                 /* 5 */
    product_removed(f, "p-1");                                               /* 6 */
    am_mem_broker_run(f->b, NULL);
    /* the two groups run one after the other in the memory broker: order by channel */
    assert_non_null(strstr(f->cache.log, "stores.add(s-1,Waldorf Books,Upper floor,1) "
                                         "stores.rename(s-1,Waldorf & Co,2)"));
    assert_non_null(strstr(f->cache.log,
                           "products.add(p-1,s-1,Atlas,3) "
                           "products.rebrand(p-1,Atlas II,5) products.remove(p-1,6)"));
    assert_int_equal(f->cache.calls, 5);
}

/* ---- notifications ------------------------------------------------------------------------- */

static void customer_event(struct fx *f, const char *name, const char *id, const char *sms)
{
    if (strcmp(name, "customersapi.CustomerRegistered") == 0) {
        Customersapi__CustomerRegistered *m = pb_new_of(customersapi__customer_registered);
        assert_non_null(m);
        assert_int_equal(pb_set_string(&m->id, id, NULL), CORE_OK);
        assert_int_equal(pb_set_string(&m->name, "Buyer #1", NULL), CORE_OK);
        assert_int_equal(pb_set_string(&m->sms_number, sms, NULL), CORE_OK);
        publish(f, "mallbots.customers.events.Customer", name, &m->base);
    } else if (strcmp(name, "customersapi.CustomerSmsChanged") == 0) {
        Customersapi__CustomerSmsChanged *m = pb_new_of(customersapi__customer_sms_changed);
        assert_non_null(m);
        assert_int_equal(pb_set_string(&m->id, id, NULL), CORE_OK);
        assert_int_equal(pb_set_string(&m->sms_number, sms, NULL), CORE_OK);
        publish(f, "mallbots.customers.events.Customer", name, &m->base);
    } else {
        Customersapi__CustomerEnabled *m = pb_new_of(customersapi__customer_enabled);
        assert_non_null(m);
        assert_int_equal(pb_set_string(&m->id, id, NULL), CORE_OK);
        publish(f, "mallbots.customers.events.Customer", name, &m->base);
    }
}

static void customer_events_write_the_customer_cache(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(notifications_subscribe_handlers(f->s, f->reg, &f->notifications, &err),
                     CORE_OK);
    customer_event(f, "customersapi.CustomerRegistered", "c-1", "555-0001");
    customer_event(f, "customersapi.CustomerEnabled", "c-1", NULL); /* not kept */
    customer_event(f, "customersapi.CustomerSmsChanged", "c-1", "555-0002");
    am_mem_broker_run(f->b, NULL);
    assert_string_equal(f->cache.log, "customers.add(c-1,Buyer #1,555-0001,1) "
                                      "customers.change_sms(c-1,555-0002,3)");
}

static void order_event(struct fx *f, const char *name, const char *id, const char *customer_id)
{
    ProtobufCMessage *payload = NULL;
    if (strcmp(name, "ordersapi.OrderCreated") == 0) {
        Ordersapi__OrderCreated *m = pb_new_of(ordersapi__order_created);
        assert_non_null(m);
        assert_int_equal(pb_set_string(&m->id, id, NULL), CORE_OK);
        assert_int_equal(pb_set_string(&m->customer_id, customer_id, NULL), CORE_OK);
        payload = &m->base;
    } else if (strcmp(name, "ordersapi.OrderReadied") == 0) {
        Ordersapi__OrderReadied *m = pb_new_of(ordersapi__order_readied);
        assert_non_null(m);
        assert_int_equal(pb_set_string(&m->id, id, NULL), CORE_OK);
        assert_int_equal(pb_set_string(&m->customer_id, customer_id, NULL), CORE_OK);
        payload = &m->base;
    } else if (strcmp(name, "ordersapi.OrderCanceled") == 0) {
        Ordersapi__OrderCanceled *m = pb_new_of(ordersapi__order_canceled);
        assert_non_null(m);
        assert_int_equal(pb_set_string(&m->id, id, NULL), CORE_OK);
        assert_int_equal(pb_set_string(&m->customer_id, customer_id, NULL), CORE_OK);
        payload = &m->base;
    } else {
        Ordersapi__OrderCompleted *m = pb_new_of(ordersapi__order_completed);
        assert_non_null(m);
        assert_int_equal(pb_set_string(&m->id, id, NULL), CORE_OK);
        assert_int_equal(pb_set_string(&m->customer_id, customer_id, NULL), CORE_OK);
        payload = &m->base;
    }
    publish(f, "mallbots.ordering.events.Order", name, payload);
}

/* Each order event sends its notification, with the customer's name and SMS number. */
static void order_events_send_the_notifications(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(notifications_subscribe_handlers(f->s, f->reg, &f->notifications, &err),
                     CORE_OK);
    order_event(f, "ordersapi.OrderCreated", "o-1", "customer-1");
    order_event(f, "ordersapi.OrderReadied", "o-1", "customer-1");
    order_event(f, "ordersapi.OrderCanceled", "o-2", "customer-1");
    order_event(f, "ordersapi.OrderCompleted", "o-1", "customer-1");
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(f->customers.calls, 4);
    const char *want[] = {
        "notification=OrderCreated order_id=o-1", "notification=OrderReady order_id=o-1",
        "notification=OrderCanceled order_id=o-2", "notification=OrderCompleted order_id=o-1"};
    const char *at = f->log;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *hit = strstr(at, want[i]);
        if (!hit)
            fail_msg("no \"%s\" after the earlier lines in:\n%s", want[i], f->log);
        at = hit + strlen(want[i]);
        assert_non_null(strstr(hit, "customer_name=\"Buyer #1\" sms_number=555-1212"));
    }
}

/* An order of a customer that customers does not know either cannot be notified: the handler
 * fails at each delivery and the message ends as a dead letter, with nothing sent. */
static void order_of_an_unknown_customer_is_a_dead_letter(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(notifications_subscribe_handlers(f->s, f->reg, &f->notifications, &err),
                     CORE_OK);
    order_event(f, "ordersapi.OrderCreated", "o-9", "nobody");
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(f->customers.calls, AM_MAX_DELIVER_DEFAULT);
    assert_string_equal(f->log, "");
    assert_int_equal(stored(f, "mallbots.dead.notification-orders"), 1);
}

/* ---- search -------------------------------------------------------------------------------- */

/* search keeps names only: the customer's name, the store's, the product's with its store. The
 * messages it does not keep (an SMS number, a participation, a price) are acknowledged unread. */
static void search_events_write_its_three_caches(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(search_subscribe_cache_handlers(f->s, f->reg, &f->search, &err), CORE_OK);
    customer_event(f, "customersapi.CustomerRegistered", "c-1", "555-0001"); /* 1 */
    customer_event(f, "customersapi.CustomerSmsChanged", "c-1", "555-0002"); /* 2: not kept */
    store_created(f, "s-1", "Waldorf Books", "Upper floor");                 /* 3 */
    store_toggled(f, "s-1");                                                 /* 4: not kept */
    store_rebranded(f, "s-1", "Waldorf & Co");                               /* 5 */
    product_added(f, "p-1", "s-1", "Atlas", 20);                             /* 6 */
    price_changed(f, STORESAPI_PRODUCT_PRICE_INCREASED, "p-1", 5, true, 25); /* 7: not kept */
    product_rebranded(f, "p-1", "Atlas II");                                 /* 8 */
    product_removed(f, "p-1");                                               /* 9 */
    am_mem_broker_run(f->b, NULL);
    /* the three groups run one after the other in the memory broker: order by channel */
    assert_non_null(strstr(f->cache.log, "customers.add(c-1,Buyer #1,1)"));
    assert_non_null(strstr(f->cache.log, "stores.add(s-1,Waldorf Books,3) "
                                         "stores.rename(s-1,Waldorf & Co,5)"));
    assert_non_null(strstr(f->cache.log,
                           "products.add(p-1,s-1,Atlas,6) "
                           "products.rebrand(p-1,Atlas II,8) products.remove(p-1,9)"));
    assert_int_equal(f->cache.calls, 6);
    assert_int_equal(stored(f, "mallbots.dead.>"), 0);
}

/* A failing cache gets the message again; a message without its id ends as a dead letter of the
 * group, and the cache is not called for it. */
static void search_failing_cache_and_message_without_an_id(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(search_subscribe_cache_handlers(f->s, f->reg, &f->search, &err), CORE_OK);
    f->cache.fail = CORE_ERR_UNAVAILABLE;
    f->cache.fail_times = 1;
    store_created(f, "s-1", "Waldorf Books", "Upper floor"); /* 1 */
    product_added(f, "", "s-1", "Atlas", 20);                /* 2 */
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(f->cache.fail_times, 0);
    assert_string_equal(f->cache.log, "stores.add(s-1,Waldorf Books,1)");
    assert_int_equal(stored(f, "mallbots.dead.search-products"), 1);
    assert_int_equal(stored(f, "mallbots.dead.search-stores"), 0);
}

int main(void)
{
    log_init(LOG_LEVEL_INFO);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(baskets_store_events_write_the_store_cache, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(baskets_product_events_write_the_product_cache, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(baskets_price_change_without_the_price_drops_the_row, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(baskets_failing_cache_gets_the_message_again, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(baskets_message_without_an_id_is_a_dead_letter, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(depot_events_write_its_caches_with_the_location, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(customer_events_write_the_customer_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(order_events_send_the_notifications, setup, teardown),
        cmocka_unit_test_setup_teardown(search_events_write_its_three_caches, setup, teardown),
        cmocka_unit_test_setup_teardown(search_failing_cache_and_message_without_an_id, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(order_of_an_unknown_customer_is_a_dead_letter, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
