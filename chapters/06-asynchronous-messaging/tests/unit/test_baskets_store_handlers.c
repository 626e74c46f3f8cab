/* test_baskets_store_handlers.c -- unit tests of the baskets module's StoreHandlers and
 * ProductHandlers (baskets/handlers.h, baskets/store_handlers.c; chapter 06): the two consumer
 * groups are subscribed to the stores' two channels, each lets through only the names it handles
 * (the others are acknowledged unread), and each message handled is logged once and acknowledged.
 *
 * The stream is the in-memory broker's (am.h): the test publishes integration events as the
 * stores module would (am_event_publish), delivers them with am_mem_broker_run() and reads what
 * the handlers logged through log_sink_set(). No servers. Every test checks it leaks nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "am.h"
#include "baskets/handlers.h"
#include "core.h"
#include "ddd.h"
#include "es.h"
#include "log.h"
#include "pb.h"
#include "stores/events.h"

/* ---- the log, captured ----------------------------------------------------------------------- */

static struct {
    char text[8192]; /* the records, without their time stamps */
    size_t len;
} logged;

static void sink(void *ud, const char *line, size_t len)
{
    (void)ud;
    /* "2026-...Z INFO  baskets: received ..." -> "INFO  baskets: received ..." */
    const char *sp = memchr(line, ' ', len);
    if (sp) {
        len -= (size_t)(sp + 1 - line);
        line = sp + 1;
    }
    if (logged.len + len < sizeof logged.text) {
        memcpy(logged.text + logged.len, line, len);
        logged.len += len;
        logged.text[logged.len] = '\0';
    }
}

/* How many records contain text. */
static int count_logged(const char *text)
{
    int n = 0;
    for (const char *p = strstr(logged.text, text); p; p = strstr(p + 1, text))
        n++;
    return n;
}

#define expect_logged(line)                                                                        \
    do {                                                                                           \
        if (count_logged(line) != 1)                                                               \
            fail_msg("wanted one record\n  %s\nin the log:\n%s", (line), logged.text);             \
    } while (0)

/* ---- fixture --------------------------------------------------------------------------------- */

static struct {
    long live;
    am_mem_broker *broker;
    am_stream *stream;
    es_registry *types;
} fx;

static int setup(void **state)
{
    (void)state;
    memset(&fx, 0, sizeof fx);
    memset(&logged, 0, sizeof logged);
    fx.live = core_alloc_live();
    core_err err = CORE_ERR_INIT;
    if (am_mem_broker_new(&fx.broker, &err) ||
        am_mem_stream_new(&fx.stream, fx.broker, "mallbots", &err) ||
        es_registry_new(&fx.types, &err) || stores_register_integration_types(fx.types, &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    log_init(LOG_LEVEL_INFO);
    log_sink_set(sink, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    log_sink_set(NULL, NULL);
    log_init(LOG_LEVEL_WARN);
    am_stream_free(fx.stream);
    am_mem_broker_free(fx.broker);
    es_registry_free(fx.types);
    assert_int_equal(core_alloc_live(), fx.live);
    return 0;
}

#define expect_ok(call)                                                                            \
    do {                                                                                           \
        core_err e_ = CORE_ERR_INIT;                                                               \
        core_err *err = &e_;                                                                       \
        if ((call) != CORE_OK)                                                                     \
            fail_msg("%s: %s", #call, e_.msg);                                                     \
    } while (0)

/* Publishes an integration event named name with payload (taken) on channel, as the stores module
 * does; its id is copied to id_out (may be NULL). */
static void publish_on(am_stream *stream, const char *channel, const char *name,
                       ProtobufCMessage *payload, char id_out[CORE_UUID_LEN + 1])
{
    ddd_event *ev = NULL;
    expect_ok(ddd_event_new(&ev, name, &payload, err));
    if (id_out)
        core_strlcpy(id_out, ddd_event_id(ev), CORE_UUID_LEN + 1);
    core_err e = CORE_ERR_INIT;
    core_status st = am_event_publish(stream, channel, ev, &e);
    ddd_event_free(ev);
    if (st)
        fail_msg("publishing %s: %s", name, e.msg);
}

static void publish(const char *channel, const char *name, ProtobufCMessage *payload,
                    char id_out[CORE_UUID_LEN + 1])
{
    publish_on(fx.stream, channel, name, payload, id_out);
}

static ProtobufCMessage *store_created(const char *id, const char *name, const char *location)
{
    Storesapi__StoreCreated *m = pb_new_of(storesapi__store_created);
    assert_non_null(m);
    expect_ok(pb_set_string(&m->id, id, err));
    expect_ok(pb_set_string(&m->name, name, err));
    expect_ok(pb_set_string(&m->location, location, err));
    return &m->base;
}

static ProtobufCMessage *price_changed(const char *id, double delta)
{
    Storesapi__ProductPriceChanged *m = pb_new_of(storesapi__product_price_changed);
    assert_non_null(m);
    expect_ok(pb_set_string(&m->id, id, err));
    m->delta = delta;
    return &m->base;
}

static void expect_all_acknowledged(const char *group)
{
    struct am_group_info gi;
    expect_ok(am_stream_group_info(fx.stream, group, &gi, err));
    assert_int_equal(gi.pending, 0);
    assert_int_equal(gi.ack_pending, 0);
}

static core_status count_fn(void *ud, const struct am_stored_msg *m, core_err *err)
{
    (void)m;
    (void)err;
    (*(int *)ud)++;
    return CORE_OK;
}

static int dead_letters(void)
{
    int n = 0;
    expect_ok(am_stream_read(fx.stream, "mallbots.dead.>", 0, count_fn, &n, err));
    return n;
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void both_groups_are_subscribed(void **state)
{
    (void)state;
    struct am_group_info gi;
    core_err e = CORE_ERR_INIT;
    assert_int_equal(am_stream_group_info(fx.stream, BASKETS_STORES_GROUP, &gi, &e),
                     CORE_ERR_NOT_FOUND);
    expect_ok(baskets_subscribe_store_handlers(fx.stream, fx.types, err));
    expect_ok(am_stream_group_info(fx.stream, "baskets-stores", &gi, err));
    expect_ok(am_stream_group_info(fx.stream, "baskets-products", &gi, err));

    /* each group consumes its own channel */
    publish(STORES_STORE_CHANNEL, STORESAPI_STORE_CREATED, store_created("s-1", "Books", "L1"),
            NULL);
    publish(STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_PRICE_INCREASED, price_changed("p-1", 1.5),
            NULL);
    size_t n = 0;
    am_mem_broker_run(fx.broker, &n);
    assert_int_equal(n, 2);
    assert_int_equal(count_logged(" group=baskets-stores delivery=1\n"), 1);
    assert_int_equal(count_logged(" group=baskets-products delivery=1\n"), 1);
    assert_int_equal(count_logged("received storesapi.StoreCreated"), 1);
    assert_int_equal(count_logged("received storesapi.ProductPriceIncreased"), 1);
}

static void store_events_are_logged_and_acknowledged(void **state)
{
    (void)state;
    expect_ok(baskets_subscribe_store_handlers(fx.stream, fx.types, err));
    char id1[CORE_UUID_LEN + 1], id2[CORE_UUID_LEN + 1], id3[CORE_UUID_LEN + 1];
    publish(STORES_STORE_CHANNEL, STORESAPI_STORE_CREATED,
            store_created("s-1", "Waldorf Books", "West Upper Level"), id1);
    Storesapi__StoreParticipationToggled *t = pb_new_of(storesapi__store_participation_toggled);
    assert_non_null(t);
    expect_ok(pb_set_string(&t->id, "s-1", err));
    t->participating = true;
    publish(STORES_STORE_CHANNEL, STORESAPI_STORE_PARTICIPATING_TOGGLED, &t->base, id2);
    Storesapi__StoreRebranded *r = pb_new_of(storesapi__store_rebranded);
    assert_non_null(r);
    expect_ok(pb_set_string(&r->id, "s-1", err));
    expect_ok(pb_set_string(&r->name, "Waldorf Books & Games", err));
    publish(STORES_STORE_CHANNEL, STORESAPI_STORE_REBRANDED, &r->base, id3);

    size_t n = 0;
    am_mem_broker_run(fx.broker, &n);
    assert_int_equal(n, 3);
    char want[512];
    snprintf(want, sizeof want,
             "INFO  baskets: received storesapi.StoreCreated id=%s store=s-1 "
             "name=\"Waldorf Books\" location=\"West Upper Level\" group=baskets-stores "
             "delivery=1\n",
             id1);
    expect_logged(want);
    snprintf(want, sizeof want,
             "INFO  baskets: received storesapi.StoreParticipatingToggled id=%s store=s-1 "
             "participating=true group=baskets-stores delivery=1\n",
             id2);
    expect_logged(want);
    snprintf(want, sizeof want,
             "INFO  baskets: received storesapi.StoreRebranded id=%s store=s-1 "
             "name=\"Waldorf Books & Games\" group=baskets-stores delivery=1\n",
             id3);
    expect_logged(want);
    expect_all_acknowledged(BASKETS_STORES_GROUP);

    /* acknowledged means done: the ack wait running out brings nothing back */
    am_mem_broker_expire(fx.broker);
    am_mem_broker_run(fx.broker, &n);
    assert_int_equal(n, 0);
    assert_int_equal(count_logged("received"), 3);
    assert_int_equal(dead_letters(), 0);
}

static void product_events_are_logged_and_acknowledged(void **state)
{
    (void)state;
    expect_ok(baskets_subscribe_store_handlers(fx.stream, fx.types, err));
    Storesapi__ProductAdded *a = pb_new_of(storesapi__product_added);
    assert_non_null(a);
    expect_ok(pb_set_string(&a->id, "p-1", err));
    expect_ok(pb_set_string(&a->store_id, "s-1", err));
    expect_ok(pb_set_string(&a->name, "Lava Lamp", err));
    a->price = 9.99;
    publish(STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_ADDED, &a->base, NULL);
    Storesapi__ProductRebranded *r = pb_new_of(storesapi__product_rebranded);
    assert_non_null(r);
    expect_ok(pb_set_string(&r->id, "p-1", err));
    expect_ok(pb_set_string(&r->name, "Lava Lamp XL", err));
    publish(STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_REBRANDED, &r->base, NULL);
    publish(STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_PRICE_INCREASED, price_changed("p-1", 2.51),
            NULL);
    publish(STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_PRICE_DECREASED, price_changed("p-1", -2.5),
            NULL);
    Storesapi__ProductRemoved *x = pb_new_of(storesapi__product_removed);
    assert_non_null(x);
    expect_ok(pb_set_string(&x->id, "p-1", err));
    publish(STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_REMOVED, &x->base, NULL);

    size_t n = 0;
    am_mem_broker_run(fx.broker, &n);
    assert_int_equal(n, 5);
    assert_int_equal(count_logged("group=baskets-products delivery=1\n"), 5);
    assert_int_equal(count_logged("received storesapi.ProductAdded id="), 1);
    assert_int_equal(count_logged(" product=p-1 store=s-1 name=\"Lava Lamp\" price=9.99 "), 1);
    assert_int_equal(count_logged(" product=p-1 name=\"Lava Lamp XL\" "), 1);
    assert_int_equal(count_logged("received storesapi.ProductPriceIncreased id="), 1);
    assert_int_equal(count_logged(" product=p-1 delta=2.51 "), 1);
    assert_int_equal(count_logged("received storesapi.ProductPriceDecreased id="), 1);
    assert_int_equal(count_logged(" product=p-1 delta=-2.50 "), 1);
    assert_int_equal(count_logged("received storesapi.ProductRemoved id="), 1);
    expect_all_acknowledged(BASKETS_PRODUCTS_GROUP);
    am_mem_broker_expire(fx.broker);
    am_mem_broker_run(fx.broker, &n);
    assert_int_equal(n, 0);
}

/* Names a group does not list are acknowledged without calling its handler: not logged, not
 * decoded (an unregistered name would otherwise be a dead letter), not delivered again. */
static void the_filters_skip_other_names(void **state)
{
    (void)state;
    expect_ok(baskets_subscribe_store_handlers(fx.stream, fx.types, err));
    expect_ok(am_stream_publish(fx.stream, STORES_STORE_CHANNEL, "m-1", "storesapi.StoreClosed",
                                NULL, 0, NULL, err));
    /* a product event's name on the store channel is not the StoreHandlers' business either */
    publish(STORES_STORE_CHANNEL, STORESAPI_PRODUCT_PRICE_INCREASED, price_changed("p-1", 1), NULL);
    expect_ok(am_stream_publish(fx.stream, STORES_PRODUCT_CHANNEL, "m-2", "storesapi.StoreCreated",
                                NULL, 0, NULL, err));
    size_t n = 0;
    am_mem_broker_run(fx.broker, &n);
    assert_int_equal(n, 3);
    if (count_logged("received") != 0)
        fail_msg("a filtered message reached a handler:\n%s", logged.text);
    assert_int_equal(dead_letters(), 0);
    expect_all_acknowledged(BASKETS_STORES_GROUP);
    expect_all_acknowledged(BASKETS_PRODUCTS_GROUP);
    am_mem_broker_expire(fx.broker);
    am_mem_broker_run(fx.broker, &n);
    assert_int_equal(n, 0);
}

/* A restarted program resumes where its groups left off: what was published while it was down is
 * delivered, what it had acknowledged is not. */
static void a_restart_resumes_the_groups(void **state)
{
    (void)state;
    expect_ok(baskets_subscribe_store_handlers(fx.stream, fx.types, err));
    publish(STORES_STORE_CHANNEL, STORESAPI_STORE_CREATED, store_created("s-1", "A", "L1"), NULL);
    am_mem_broker_run(fx.broker, NULL);
    am_stream_free(fx.stream); /* the program stops */
    fx.stream = NULL;

    am_stream *producer = NULL;
    expect_ok(am_mem_stream_new(&producer, fx.broker, "mallbots", err));
    publish_on(producer, STORES_STORE_CHANNEL, STORESAPI_STORE_CREATED,
               store_created("s-2", "B", "L2"), NULL);

    expect_ok(am_mem_stream_new(&fx.stream, fx.broker, "mallbots", err)); /* it starts again */
    expect_ok(baskets_subscribe_store_handlers(fx.stream, fx.types, err));
    size_t n = 0;
    am_mem_broker_run(fx.broker, &n);
    assert_int_equal(n, 1);
    assert_int_equal(count_logged("store=s-1 "), 1);
    assert_int_equal(count_logged("store=s-2 "), 1);
    am_stream_free(producer);
}

/* A subscription that cannot be made is the caller's error (the module's start-up fails). */
static void a_closed_stream_cannot_subscribe(void **state)
{
    (void)state;
    core_err e = CORE_ERR_INIT;
    expect_ok(am_stream_close(fx.stream, 100, err));
    assert_int_equal(baskets_subscribe_store_handlers(fx.stream, fx.types, &e),
                     CORE_ERR_UNAVAILABLE);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(both_groups_are_subscribed),
        T(store_events_are_logged_and_acknowledged),
        T(product_events_are_logged_and_acknowledged),
        T(the_filters_skip_other_names),
        T(a_restart_resumes_the_groups),
        T(a_closed_stream_cannot_subscribe),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
