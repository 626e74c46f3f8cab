/* test_stores_integration.c -- unit tests of the stores module's IntegrationEventHandlers
 * (stores/handlers.h, stores/integration_handlers.c; chapter 06): every domain event of a store
 * or a product becomes the integration event stores/events.h lists, on the right channel, with
 * the domain event's id and the store's or product's id in the payload.
 *
 * The path is the module's: the real domain (stores/domain.h) raises the events, an es_repo over
 * the in-memory event store saves them and publishes them to a ddd_dispatcher, whose
 * IntegrationEventHandlers publish on an am_stream of the in-memory broker (am.h). The tests read
 * the stream back (am_stream_read) and decode each message as a consumer would, through a
 * registry holding the integration types (stores_register_integration_types). A recorder
 * subscribed to the dispatcher before the handlers notes each domain event's name and id. No
 * servers. Every test checks it leaks nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "am.h"
#include "core.h"
#include "ddd.h"
#include "es.h"
#include "pb.h"
#include "stores/domain.h"
#include "stores/domain_events.pb-c.h"
#include "stores/events.h"
#include "stores/handlers.h"

static const char *const DOMAIN_EVENTS[] = {
    STORES_STORE_CREATED,
    STORES_STORE_PARTICIPATION_ENABLED,
    STORES_STORE_PARTICIPATION_DISABLED,
    STORES_STORE_REBRANDED,
    STORES_PRODUCT_ADDED,
    STORES_PRODUCT_REBRANDED,
    STORES_PRODUCT_PRICE_INCREASED,
    STORES_PRODUCT_PRICE_DECREASED,
    STORES_PRODUCT_REMOVED,
};
#define N_DOMAIN_EVENTS (sizeof DOMAIN_EVENTS / sizeof DOMAIN_EVENTS[0])

#define MAX_SEEN 16

/* The domain events the dispatcher delivered, in order (the recorder's notes). */
struct seen {
    size_t n;
    char name[MAX_SEEN][64];
    char id[MAX_SEEN][CORE_UUID_LEN + 1];
};

/* The integration messages read back from the stream, decoded. */
struct msgs {
    size_t n;
    char subject[MAX_SEEN][128];
    char msg_id[MAX_SEEN][CORE_UUID_LEN + 1]; /* header Nats-Msg-Id */
    ddd_event *ev[MAX_SEEN];                  /* owned; freed by msgs_release */
};

static struct {
    long live;
    am_mem_broker *broker;
    am_stream *stream;
    es_registry *domain_types;      /* the module's event and snapshot types (event store) */
    es_registry *integration_types; /* what a consumer registers */
    es_store *store;
    ddd_dispatcher *events;
    es_repo *stores_repo, *products_repo;
    struct seen seen;
    struct msgs msgs;
} fx;

static core_status record(void *ud, const ddd_event *ev, core_err *err)
{
    (void)ud;
    (void)err;
    struct seen *s = &fx.seen;
    assert_true(s->n < MAX_SEEN);
    core_strlcpy(s->name[s->n], ddd_event_name(ev), sizeof s->name[0]);
    core_strlcpy(s->id[s->n], ddd_event_id(ev), sizeof s->id[0]);
    s->n++;
    return CORE_OK;
}

static int setup(void **state)
{
    (void)state;
    memset(&fx, 0, sizeof fx);
    fx.live = core_alloc_live();
    core_err err = CORE_ERR_INIT;
    struct ddd_publisher pub;
    if (am_mem_broker_new(&fx.broker, &err) ||
        am_mem_stream_new(&fx.stream, fx.broker, "mallbots", &err) ||
        es_registry_new(&fx.domain_types, &err) || stores_register_types(fx.domain_types, &err) ||
        es_registry_new(&fx.integration_types, &err) ||
        stores_register_integration_types(fx.integration_types, &err) ||
        es_mem_store_new(&fx.store, fx.domain_types, &err) || ddd_dispatcher_new(&fx.events, &err))
        goto fail;
    for (size_t i = 0; i < N_DOMAIN_EVENTS; i++)
        if (ddd_dispatcher_subscribe(fx.events, DOMAIN_EVENTS[i], "test.Recorder", record, NULL,
                                     &err))
            goto fail;
    if (stores_register_integration_handlers(fx.events, fx.stream, &err))
        goto fail;
    pub = ddd_dispatcher_publisher(fx.events);
    if (es_repo_new(&fx.stores_repo, &stores_store_type, fx.store, &pub, 0, &err) ||
        es_repo_new(&fx.products_repo, &stores_product_type, fx.store, &pub, 0, &err))
        goto fail;
    return 0;
fail:
    fprintf(stderr, "setup: %s\n", err.msg);
    return -1;
}

static void msgs_release(struct msgs *m)
{
    for (size_t i = 0; i < m->n; i++)
        ddd_event_free(m->ev[i]);
    memset(m, 0, sizeof *m);
}

static int teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    msgs_release(&fx.msgs);
    es_repo_free(fx.products_repo);
    es_repo_free(fx.stores_repo);
    ddd_dispatcher_free(fx.events);
    es_store_free(fx.store);
    es_registry_free(fx.integration_types);
    es_registry_free(fx.domain_types);
    am_stream_free(fx.stream);
    am_mem_broker_free(fx.broker);
    assert_int_equal(core_alloc_live(), fx.live);
    return 0;
}

/* Decodes one stored message as a consumer would: the StreamMessage, then its EventMessageData
 * with the payload type the integration registry has for its name. */
static core_status collect(void *ud, const struct am_stored_msg *m, core_err *err)
{
    struct msgs *out = ud;
    assert_true(out->n < MAX_SEEN);
    size_t i = out->n;
    struct am_envelope env = AM_ENVELOPE_INIT;
    core_status st = am_stream_message_unpack(m->data, m->len, &env, err);
    if (!st)
        st = am_data_unpack(fx.integration_types, env.id, env.name, env.data, env.len, &out->ev[i],
                            err);
    am_envelope_release(&env);
    if (st)
        return st;
    core_strlcpy(out->subject[i], m->subject, sizeof out->subject[0]);
    core_strlcpy(out->msg_id[i], m->msg_id ? m->msg_id : "", sizeof out->msg_id[0]);
    out->n++;
    return CORE_OK;
}

/* Reads every message on the stores' channels into fx.msgs (dropping an earlier reading). */
static void read_messages(void)
{
    core_err err = CORE_ERR_INIT;
    msgs_release(&fx.msgs);
    if (am_stream_read(fx.stream, "mallbots.stores.events.>", 0, collect, &fx.msgs, &err))
        fail_msg("reading the stream: %s", err.msg);
}

/* Checks message i: channel, name, message id = the i-th domain event's id, payload type. Returns
 * the payload. */
static const void *expect_message(size_t i, const char *channel, const char *name,
                                  const ProtobufCMessageDescriptor *desc)
{
    assert_true(i < fx.msgs.n);
    assert_true(i < fx.seen.n);
    const ddd_event *ev = fx.msgs.ev[i];
    assert_string_equal(fx.msgs.subject[i], channel);
    assert_string_equal(ddd_event_name(ev), name);
    assert_string_equal(ddd_event_id(ev), fx.seen.id[i]);
    assert_string_equal(fx.msgs.msg_id[i], fx.seen.id[i]);
    assert_true(ddd_event_payload_is(ev, desc));
    return ddd_event_payload(ev);
}

#define expect_ok(call)                                                                            \
    do {                                                                                           \
        core_err e_ = CORE_ERR_INIT;                                                               \
        core_err *err = &e_;                                                                       \
        if ((call) != CORE_OK)                                                                     \
            fail_msg("%s: %s", #call, e_.msg);                                                     \
    } while (0)

/* ---- tests ----------------------------------------------------------------------------------- */

static void every_domain_event_has_one_integration_handler(void **state)
{
    (void)state;
    ddd_dispatcher *d = NULL;
    expect_ok(ddd_dispatcher_new(&d, err));
    expect_ok(stores_register_integration_handlers(d, fx.stream, err));
    for (size_t i = 0; i < N_DOMAIN_EVENTS; i++)
        assert_int_equal(ddd_dispatcher_count(d, DOMAIN_EVENTS[i]), 1);
    assert_int_equal(ddd_dispatcher_count(d, "stores.StoreRemoved"), 0);
    ddd_dispatcher_free(d);
}

static void store_events_go_to_the_store_channel(void **state)
{
    (void)state;
    struct stores_store s = STORES_STORE_INIT;
    expect_ok(stores_store_create(&s, "s-1", "Waldorf Books", "West Upper Level", err));
    expect_ok(es_repo_save(fx.stores_repo, &s, err));
    expect_ok(stores_store_enable_participation(&s, err));
    expect_ok(stores_store_rebrand(&s, "Waldorf Books & Games", err));
    expect_ok(es_repo_save(fx.stores_repo, &s, err));
    expect_ok(stores_store_disable_participation(&s, err));
    expect_ok(es_repo_save(fx.stores_repo, &s, err));
    stores_store_release(&s);

    read_messages();
    assert_int_equal(fx.seen.n, 4);
    assert_int_equal(fx.msgs.n, 4);
    const Storesapi__StoreCreated *created = expect_message(
        0, STORES_STORE_CHANNEL, STORESAPI_STORE_CREATED, &storesapi__store_created__descriptor);
    assert_string_equal(created->id, "s-1"); /* the store's id, not the event's */
    assert_string_equal(created->name, "Waldorf Books");
    assert_string_equal(created->location, "West Upper Level");
    const Storesapi__StoreParticipationToggled *on =
        expect_message(1, STORES_STORE_CHANNEL, STORESAPI_STORE_PARTICIPATING_TOGGLED,
                       &storesapi__store_participation_toggled__descriptor);
    assert_string_equal(on->id, "s-1");
    assert_true(on->participating);
    const Storesapi__StoreRebranded *rebranded =
        expect_message(2, STORES_STORE_CHANNEL, STORESAPI_STORE_REBRANDED,
                       &storesapi__store_rebranded__descriptor);
    assert_string_equal(rebranded->id, "s-1");
    assert_string_equal(rebranded->name, "Waldorf Books & Games");
    const Storesapi__StoreParticipationToggled *off =
        expect_message(3, STORES_STORE_CHANNEL, STORESAPI_STORE_PARTICIPATING_TOGGLED,
                       &storesapi__store_participation_toggled__descriptor);
    assert_string_equal(off->id, "s-1");
    assert_false(off->participating);
    /* the message keeps the domain event's time too */
    assert_true(ddd_event_occurred_at(fx.msgs.ev[0]).tv_sec > 0);
}

static void product_events_go_to_the_product_channel(void **state)
{
    (void)state;
    struct stores_product p = STORES_PRODUCT_INIT;
    expect_ok(stores_product_create(&p, "p-1", "s-1", "Lava Lamp", "groovy", "LL-1", 9.99, err));
    expect_ok(es_repo_save(fx.products_repo, &p, err));
    expect_ok(stores_product_rebrand(&p, "Lava Lamp XL", "groovier", err));
    expect_ok(stores_product_increase_price(&p, 12.5, err));
    expect_ok(stores_product_decrease_price(&p, 10, err));
    expect_ok(es_repo_save(fx.products_repo, &p, err));
    expect_ok(stores_product_remove(&p, err));
    expect_ok(es_repo_save(fx.products_repo, &p, err));
    stores_product_release(&p);

    read_messages();
    assert_int_equal(fx.seen.n, 5);
    assert_int_equal(fx.msgs.n, 5);
    const Storesapi__ProductAdded *added = expect_message(
        0, STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_ADDED, &storesapi__product_added__descriptor);
    assert_string_equal(added->id, "p-1"); /* the product's id, not the event's */
    assert_string_equal(added->store_id, "s-1");
    assert_string_equal(added->name, "Lava Lamp");
    assert_string_equal(added->description, "groovy");
    assert_string_equal(added->sku, "LL-1");
    assert_true(added->price == 9.99);
    const Storesapi__ProductRebranded *rebranded =
        expect_message(1, STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_REBRANDED,
                       &storesapi__product_rebranded__descriptor);
    assert_string_equal(rebranded->id, "p-1");
    assert_string_equal(rebranded->name, "Lava Lamp XL");
    assert_string_equal(rebranded->description, "groovier");
    const Storesapi__ProductPriceChanged *up =
        expect_message(2, STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_PRICE_INCREASED,
                       &storesapi__product_price_changed__descriptor);
    assert_string_equal(up->id, "p-1");
    assert_true(up->delta == 2.51);
    const Storesapi__ProductPriceChanged *down =
        expect_message(3, STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_PRICE_DECREASED,
                       &storesapi__product_price_changed__descriptor);
    assert_string_equal(down->id, "p-1");
    assert_true(down->delta == -2.5);
    const Storesapi__ProductRemoved *removed =
        expect_message(4, STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_REMOVED,
                       &storesapi__product_removed__descriptor);
    assert_string_equal(removed->id, "p-1");
}

/* The message id is the domain event's id, so announcing one domain event twice stores one
 * message: the stream drops the repeated Nats-Msg-Id. */
static void one_domain_event_is_one_message(void **state)
{
    (void)state;
    struct stores_product p = STORES_PRODUCT_INIT;
    expect_ok(stores_product_create(&p, "p-1", "s-1", "Lamp", "", "", 1.0, err));
    ddd_event *ev = p.agg.base.events.items[0];
    expect_ok(ddd_dispatcher_publish(fx.events, &ev, 1, err));
    expect_ok(ddd_dispatcher_publish(fx.events, &ev, 1, err));
    stores_product_release(&p);
    read_messages();
    assert_int_equal(fx.seen.n, 2);
    assert_string_equal(fx.seen.id[0], fx.seen.id[1]);
    assert_int_equal(fx.msgs.n, 1);
    expect_message(0, STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_ADDED,
                   &storesapi__product_added__descriptor);
}

/* A broker that is closed (or gone): the change is stored, the announcement is lost, and the
 * caller learns both in the API's words. */
static void a_closed_broker_is_unavailable(void **state)
{
    (void)state;
    core_err e = CORE_ERR_INIT;
    expect_ok(am_stream_close(fx.stream, 100, err));
    struct stores_product p = STORES_PRODUCT_INIT;
    expect_ok(stores_product_create(&p, "p-1", "s-1", "Lamp", "", "", 1.0, err));
    assert_int_equal(es_repo_save(fx.products_repo, &p, &e), CORE_ERR_UNAVAILABLE);
    assert_string_equal(core_err_client_msg(&e), "the change was saved but not published: "
                                                 "the message broker is unavailable");
    /* the log's message names the handlers and the event */
    assert_non_null(strstr(e.msg, "stores.IntegrationEventHandlers on stores.ProductAdded: "));
    stores_product_release(&p);

    /* the change itself is stored */
    struct stores_product loaded = STORES_PRODUCT_INIT;
    expect_ok(es_repo_load(fx.products_repo, "p-1", &loaded, err));
    assert_int_equal(es_aggregate_version(&loaded.agg), 1);
    assert_string_equal(loaded.name, "Lamp");
    stores_product_release(&loaded);
}

/* The same while the broker is away for a moment (a publish that fails), for a store event. */
static void a_failed_publish_is_unavailable(void **state)
{
    (void)state;
    core_err e = CORE_ERR_INIT;
    struct stores_store s = STORES_STORE_INIT;
    expect_ok(stores_store_create(&s, "s-1", "Books", "Level 1", err));
    am_mem_broker_fail(fx.broker, AM_MEM_FAIL_PUBLISH, 1);
    assert_int_equal(es_repo_save(fx.stores_repo, &s, &e), CORE_ERR_UNAVAILABLE);
    assert_string_equal(core_err_client_msg(&e), "the change was saved but not published: "
                                                 "the message broker is unavailable");
    /* the broker is back: the next change is announced; the lost one stays lost (chapter 09) */
    expect_ok(stores_store_rebrand(&s, "Books 2", err));
    expect_ok(es_repo_save(fx.stores_repo, &s, err));
    stores_store_release(&s);
    read_messages();
    assert_int_equal(fx.msgs.n, 1);
    assert_string_equal(ddd_event_name(fx.msgs.ev[0]), STORESAPI_STORE_REBRANDED);
}

/* Events the domain never raises: no aggregate id, or a payload of another type. Nothing is
 * published. */
static void malformed_domain_events_are_internal_errors(void **state)
{
    (void)state;
    core_err e = CORE_ERR_INIT;
    ddd_event *ev = NULL;
    ProtobufCMessage *payload = pb_new(&stores__domain__product_removed__descriptor);
    expect_ok(ddd_event_new(&ev, STORES_PRODUCT_REMOVED, &payload, err));
    assert_int_equal(ddd_dispatcher_publish(fx.events, &ev, 1, &e), CORE_ERR_INTERNAL);
    assert_non_null(strstr(e.msg, "has no aggregate id"));
    ddd_event_free(ev);

    payload = pb_new(&stores__domain__product_added__descriptor);
    expect_ok(ddd_event_new(&ev, STORES_STORE_REBRANDED, &payload, err));
    expect_ok(ddd_event_set_metadata(ev, "aggregate-id", "s-1", err));
    assert_int_equal(ddd_dispatcher_publish(fx.events, &ev, 1, &e), CORE_ERR_INTERNAL);
    assert_non_null(strstr(e.msg, "StoreRebranded"));
    ddd_event_free(ev);
    read_messages();
    assert_int_equal(fx.msgs.n, 0);
}

/* Out of memory in a handler: CORE_ERR_NOMEM and nothing leaks (the teardown counts). */
static void allocation_failures_leak_nothing(void **state)
{
    (void)state;
    int nomem = 0;
    for (long n = 0; n < 200; n++) {
        struct stores_product p = STORES_PRODUCT_INIT;
        core_err e = CORE_ERR_INIT;
        fx.seen.n = 0;
        expect_ok(stores_product_create(&p, "p-1", "s-1", "Lamp", "", "", 1.0, err));
        ddd_event *ev = p.agg.base.events.items[0];
        core_alloc_fail_after(n);
        core_status st = ddd_dispatcher_publish(fx.events, &ev, 1, &e);
        core_alloc_fail_after(-1);
        stores_product_release(&p);
        if (st == CORE_OK)
            break;
        assert_int_equal(st, CORE_ERR_NOMEM);
        nomem++;
    }
    assert_true(nomem > 0);
    read_messages();
    assert_int_equal(fx.msgs.n, 1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(every_domain_event_has_one_integration_handler),
        T(store_events_go_to_the_store_channel),
        T(product_events_go_to_the_product_channel),
        T(one_domain_event_is_one_message),
        T(a_closed_broker_is_unavailable),
        T(a_failed_publish_is_unavailable),
        T(malformed_domain_events_are_internal_errors),
        T(allocation_failures_leak_nothing),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
