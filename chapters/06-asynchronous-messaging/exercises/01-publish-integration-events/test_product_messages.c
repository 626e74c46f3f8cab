/* test_product_messages.c -- exercise 06.1: the stores module announces every product change as
 * an integration event (stores/integration_handlers.c: the product builders and their rows in
 * translations[]).
 *
 * The tests are the to-do list of the exercise, in the order the README suggests: each product
 * event on its own, then a product's whole life, the message id, running out of memory and a
 * broker that is away. A failing check prints every message it wanted and every message the
 * stream holds, one a line, for example
 *     mallbots.stores.events.Product storesapi.ProductAdded id=<id of stores.ProductAdded> | id=p-1
 * ...
 *
 * The path is the module's own: the chapter's domain code raises the events, an event-sourced
 * repository (es.h) saves them in the in-memory event store and publishes them to a dispatcher,
 * where your handlers are subscribed (stores_register_integration_handlers). They publish on an
 * am_stream of the in-memory broker (am.h). The tests read the stream back and decode each
 * message as a consumer would. No servers. Every test also checks that it leaked nothing.
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
#include "stores/domain.h"
#include "stores/events.h"
#include "stores/handlers.h"

#define MAX_MSGS 16

/* The domain events the dispatcher delivered, each once, in order (a recorder subscribed before
 * yours). */
static struct {
    size_t n;
    char name[MAX_MSGS][64];
    char id[MAX_MSGS][CORE_UUID_LEN + 1];
} seen;

/* The messages on the stores' channels, decoded, one line each (see describe()). */
static struct {
    size_t n;
    char line[MAX_MSGS][512];
} got;

static long live_at_start;
static am_mem_broker *broker;
static am_stream *stream;
static es_registry *domain_types, *message_types;
static es_store *store;
static ddd_dispatcher *events;
static es_repo *products, *stores;

static core_status record(void *ud, const ddd_event *ev, core_err *err)
{
    (void)ud;
    (void)err;
    for (size_t k = 0; k < seen.n; k++)
        if (strcmp(seen.id[k], ddd_event_id(ev)) == 0)
            return CORE_OK; /* the same event again (a retry): noted once */
    assert_true(seen.n < MAX_MSGS);
    core_strlcpy(seen.name[seen.n], ddd_event_name(ev), sizeof seen.name[0]);
    core_strlcpy(seen.id[seen.n], ddd_event_id(ev), sizeof seen.id[0]);
    seen.n++;
    return CORE_OK;
}

static int setup(void **state)
{
    (void)state;
    static const char *const names[] = {
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
    memset(&seen, 0, sizeof seen);
    memset(&got, 0, sizeof got);
    live_at_start = core_alloc_live();
    core_err err = CORE_ERR_INIT;
    if (am_mem_broker_new(&broker, &err) || am_mem_stream_new(&stream, broker, "mallbots", &err) ||
        es_registry_new(&domain_types, &err) || stores_register_types(domain_types, &err) ||
        es_registry_new(&message_types, &err) ||
        stores_register_integration_types(message_types, &err) ||
        es_mem_store_new(&store, domain_types, &err) || ddd_dispatcher_new(&events, &err))
        goto fail;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (ddd_dispatcher_subscribe(events, names[i], "test.Recorder", record, NULL, &err))
            goto fail;
    if (stores_register_integration_handlers(events, stream, &err))
        goto fail;
    struct ddd_publisher pub = ddd_dispatcher_publisher(events);
    if (es_repo_new(&products, &stores_product_type, store, &pub, 0, &err) ||
        es_repo_new(&stores, &stores_store_type, store, &pub, 0, &err))
        goto fail;
    return 0;
fail:
    fprintf(stderr, "setup: %s\n", err.msg);
    return -1;
}

static int teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    es_repo_free(stores);
    es_repo_free(products);
    ddd_dispatcher_free(events);
    es_store_free(store);
    es_registry_free(message_types);
    es_registry_free(domain_types);
    am_stream_free(stream);
    am_mem_broker_free(broker);
    if (core_alloc_live() != live_at_start) {
        print_error("error: %ld allocation(s) not freed (a builder that fails must free what it "
                    "made: pb_free)\n",
                    core_alloc_live() - live_at_start);
        return -1;
    }
    return 0;
}

/* ---- reading the stream ---------------------------------------------------------------------- */

/* A message id as text: "<id of stores.ProductAdded>" when it is the id of that domain event. */
static const char *whose_id(const char *id)
{
    static char buf[MAX_MSGS][96];
    static size_t next;
    char *out = buf[next++ % MAX_MSGS];
    for (size_t k = 0; k < seen.n; k++)
        if (strcmp(id, seen.id[k]) == 0) {
            snprintf(out, sizeof buf[0], "<id of %s>", seen.name[k]);
            return out;
        }
    snprintf(out, sizeof buf[0], "<not a domain event's id: %s>", id);
    return out;
}

/* A payload's id as text: <an event id> when it is the id of a domain event. */
static const char *pid(const char *id)
{
    for (size_t k = 0; k < seen.n; k++)
        if (strcmp(id, seen.id[k]) == 0)
            return "<an event id>";
    return id;
}

/* The payload's fields as text. */
static void describe_payload(char *out, size_t size, const ddd_event *ev)
{
    const ProtobufCMessage *p = ddd_event_payload(ev);
    if (ddd_event_payload_is(ev, &storesapi__product_added__descriptor)) {
        const Storesapi__ProductAdded *m = (const void *)p;
        snprintf(out, size, "id=%s store_id=%s name=%s description=%s sku=%s price=%.4f",
                 pid(m->id), m->store_id, m->name, m->description, m->sku, m->price);
    } else if (ddd_event_payload_is(ev, &storesapi__product_rebranded__descriptor)) {
        const Storesapi__ProductRebranded *m = (const void *)p;
        snprintf(out, size, "id=%s name=%s description=%s", pid(m->id), m->name, m->description);
    } else if (ddd_event_payload_is(ev, &storesapi__product_price_changed__descriptor)) {
        const Storesapi__ProductPriceChanged *m = (const void *)p;
        snprintf(out, size, "id=%s delta=%+.4f", pid(m->id), m->delta);
    } else if (ddd_event_payload_is(ev, &storesapi__product_removed__descriptor)) {
        const Storesapi__ProductRemoved *m = (const void *)p;
        snprintf(out, size, "id=%s", pid(m->id));
    } else if (ddd_event_payload_is(ev, &storesapi__store_created__descriptor)) {
        const Storesapi__StoreCreated *m = (const void *)p;
        snprintf(out, size, "id=%s name=%s location=%s", pid(m->id), m->name, m->location);
    } else if (ddd_event_payload_is(ev, &storesapi__store_rebranded__descriptor)) {
        const Storesapi__StoreRebranded *m = (const void *)p;
        snprintf(out, size, "id=%s name=%s", pid(m->id), m->name);
    } else if (ddd_event_payload_is(ev, &storesapi__store_participation_toggled__descriptor)) {
        const Storesapi__StoreParticipationToggled *m = (const void *)p;
        snprintf(out, size, "id=%s participating=%s", pid(m->id),
                 m->participating ? "true" : "false");
    } else {
        snprintf(out, size, "a %s payload", p ? p->descriptor->name : "missing");
    }
}

/* Each stored message becomes "<subject> <name> id=<whose> | <payload>". */
static core_status collect(void *ud, const struct am_stored_msg *m, core_err *err)
{
    (void)ud;
    if (got.n == MAX_MSGS)
        return CORE_OK; /* more than any test wants: the comparison fails anyway */
    size_t i = got.n;
    struct am_envelope env = AM_ENVELOPE_INIT;
    ddd_event *ev = NULL;
    core_status st = am_stream_message_unpack(m->data, m->len, &env, err);
    if (!st)
        st = am_data_unpack(message_types, env.id, env.name, env.data, env.len, &ev, err);
    if (st) {
        snprintf(got.line[i], sizeof got.line[0], "%s (does not decode: %s)", m->subject, err->msg);
    } else {
        char payload[384];
        describe_payload(payload, sizeof payload, ev);
        snprintf(got.line[i], sizeof got.line[0], "%s %s id=%s%s | %s", m->subject, env.name,
                 whose_id(env.id),
                 m->msg_id && strcmp(m->msg_id, env.id) == 0 ? "" : " (another Nats-Msg-Id)",
                 payload);
    }
    got.n++;
    ddd_event_free(ev);
    am_envelope_release(&env);
    return CORE_OK;
}

static void read_stream(void)
{
    core_err err = CORE_ERR_INIT;
    got.n = 0;
    if (am_stream_read(stream, "mallbots.stores.events.>", 0, collect, NULL, &err))
        fail_msg("reading the stream: %s", err.msg);
}

/* Reads the stream and compares its messages with want (n lines). */
static void check_stream(const char *const *want, size_t n, const char *file, int line)
{
    read_stream();
    bool same = got.n == n;
    for (size_t i = 0; same && i < n; i++)
        same = strcmp(got.line[i], want[i]) == 0;
    if (same)
        return;
    print_error("error: the messages on the stream\n    wanted (%zu):\n", n);
    for (size_t i = 0; i < n; i++)
        print_error("      %s\n", want[i]);
    print_error("    got (%zu):\n", got.n);
    for (size_t i = 0; i < got.n; i++)
        print_error("      %s\n", got.line[i]);
    if (got.n == 0 && seen.n > 0)
        print_error("    (the domain events %s ... were saved: is a row of translations[] "
                    "missing?)\n",
                    seen.name[0]);
    for (size_t i = 0; i < got.n; i++)
        if (strstr(got.line[i], "| id=<an event id>")) {
            print_error("    (a payload's id is an EVENT's id: it must be the product's id, the "
                        "builder's first argument)\n");
            break;
        }
    _fail(file, line);
}
#define expect_stream(...)                                                                         \
    do {                                                                                           \
        static const char *const want_[] = {__VA_ARGS__};                                          \
        check_stream(want_, sizeof want_ / sizeof want_[0], __FILE__, __LINE__);                   \
    } while (0)

#define expect_ok(call)                                                                            \
    do {                                                                                           \
        core_err e_ = CORE_ERR_INIT;                                                               \
        core_err *err = &e_;                                                                       \
        if ((call) != CORE_OK)                                                                     \
            fail_msg("%s: %s", #call, e_.msg);                                                     \
    } while (0)

#define P "mallbots.stores.events.Product "
#define S "mallbots.stores.events.Store "
#define LAMP "id=p-1 store_id=s-1 name=Lava Lamp description=groovy sku=LL-1 price=9.9900"

/* A product p-1 of store s-1, saved: its ProductAdded is published. */
static void lava_lamp(struct stores_product *p)
{
    expect_ok(stores_product_create(p, "p-1", "s-1", "Lava Lamp", "groovy", "LL-1", 9.99, err));
    expect_ok(es_repo_save(products, p, err));
}

/* ---- 1. one product event at a time ---------------------------------------------------------- */

static void product_added_is_announced(void **state)
{
    (void)state;
    struct stores_product p = STORES_PRODUCT_INIT;
    lava_lamp(&p);
    stores_product_release(&p);
    expect_stream(P "storesapi.ProductAdded id=<id of stores.ProductAdded> | " LAMP);
}

static void product_rebranded_is_announced(void **state)
{
    (void)state;
    struct stores_product p = STORES_PRODUCT_INIT;
    lava_lamp(&p);
    expect_ok(stores_product_rebrand(&p, "Lava Lamp XL", "groovier", err));
    expect_ok(es_repo_save(products, &p, err));
    stores_product_release(&p);
    expect_stream(
        P "storesapi.ProductAdded id=<id of stores.ProductAdded> | " LAMP, P
        "storesapi.ProductRebranded id=<id of stores.ProductRebranded> | id=p-1 name=Lava Lamp XL "
        "description=groovier");
}

/* The price events carry the difference, new price minus old: up is positive, down negative. */
static void price_changes_carry_their_delta(void **state)
{
    (void)state;
    struct stores_product p = STORES_PRODUCT_INIT;
    lava_lamp(&p);
    expect_ok(stores_product_increase_price(&p, 12.5, err));
    expect_ok(es_repo_save(products, &p, err));
    expect_ok(stores_product_decrease_price(&p, 10, err));
    expect_ok(es_repo_save(products, &p, err));
    stores_product_release(&p);
    expect_stream(P "storesapi.ProductAdded id=<id of stores.ProductAdded> | " LAMP,
                  P "storesapi.ProductPriceIncreased id=<id of stores.ProductPriceIncreased> | "
                    "id=p-1 delta=+2.5100",
                  P "storesapi.ProductPriceDecreased id=<id of stores.ProductPriceDecreased> | "
                    "id=p-1 delta=-2.5000");
}

static void product_removed_is_announced(void **state)
{
    (void)state;
    struct stores_product p = STORES_PRODUCT_INIT;
    lava_lamp(&p);
    expect_ok(stores_product_remove(&p, err));
    expect_ok(es_repo_save(products, &p, err));
    stores_product_release(&p);
    expect_stream(P "storesapi.ProductAdded id=<id of stores.ProductAdded> | " LAMP,
                  P "storesapi.ProductRemoved id=<id of stores.ProductRemoved> | id=p-1");
}

/* ---- 2. a whole life, next to a store's ------------------------------------------------------ */

/* Several events in one save are announced in order, one message each; the store's messages
 * still go to their own channel. */
static void a_whole_life_in_order(void **state)
{
    (void)state;
    struct stores_store s = STORES_STORE_INIT;
    expect_ok(stores_store_create(&s, "s-1", "Waldorf Books", "West Upper Level", err));
    expect_ok(es_repo_save(stores, &s, err));
    struct stores_product p = STORES_PRODUCT_INIT;
    expect_ok(stores_product_create(&p, "p-2", "s-1", "Globe", "", "", 20, err));
    expect_ok(stores_product_rebrand(&p, "Big Globe", "round", err));
    expect_ok(stores_product_increase_price(&p, 25, err));
    expect_ok(stores_product_decrease_price(&p, 24.75, err));
    expect_ok(stores_product_remove(&p, err));
    expect_ok(es_repo_save(products, &p, err));
    expect_ok(stores_store_rebrand(&s, "Waldorf Books & Games", err));
    expect_ok(es_repo_save(stores, &s, err));
    stores_product_release(&p);
    stores_store_release(&s);
    expect_stream(
        S "storesapi.StoreCreated id=<id of stores.StoreCreated> | id=s-1 name=Waldorf Books "
          "location=West Upper Level",
        P "storesapi.ProductAdded id=<id of stores.ProductAdded> | id=p-2 store_id=s-1 name=Globe "
          "description= sku= price=20.0000",
        P "storesapi.ProductRebranded id=<id of stores.ProductRebranded> | id=p-2 name=Big Globe "
          "description=round",
        P "storesapi.ProductPriceIncreased id=<id of stores.ProductPriceIncreased> | id=p-2 "
          "delta=+5.0000",
        P "storesapi.ProductPriceDecreased id=<id of stores.ProductPriceDecreased> | id=p-2 "
          "delta=-0.2500",
        P "storesapi.ProductRemoved id=<id of stores.ProductRemoved> | id=p-2",
        S "storesapi.StoreRebranded id=<id of stores.StoreRebranded> | id=s-1 name=Waldorf Books & "
          "Games");
}

/* ---- 3. the message id ----------------------------------------------------------------------- */

/* The message id is the domain event's id. A retry of the same domain event (the same id) is
 * stored once: the stream drops a repeated Nats-Msg-Id. */
static void one_domain_event_is_one_message(void **state)
{
    (void)state;
    struct stores_product p = STORES_PRODUCT_INIT;
    expect_ok(stores_product_create(&p, "p-1", "s-1", "Lava Lamp", "groovy", "LL-1", 9.99, err));
    expect_ok(stores_product_increase_price(&p, 12.5, err));
    for (int round = 0; round < 2; round++)
        expect_ok(
            ddd_dispatcher_publish(events, p.agg.base.events.items, p.agg.base.events.n, err));
    stores_product_release(&p);
    expect_stream(P "storesapi.ProductAdded id=<id of stores.ProductAdded> | " LAMP,
                  P "storesapi.ProductPriceIncreased id=<id of stores.ProductPriceIncreased> | "
                    "id=p-1 delta=+2.5100");
}

/* ---- 4. running out of memory, a broker that is away ----------------------------------------- */

/* Each allocation fails in turn, for each of the five events: CORE_ERR_NOMEM, nothing leaked,
 * nothing published; once memory is back, the message goes out. */
static void out_of_memory_is_reported_and_leaks_nothing(void **state)
{
    (void)state;
    struct stores_product p = STORES_PRODUCT_INIT;
    expect_ok(stores_product_create(&p, "p-1", "s-1", "Lava Lamp", "groovy", "LL-1", 9.99, err));
    expect_ok(stores_product_rebrand(&p, "Lava Lamp XL", "groovier", err));
    expect_ok(stores_product_increase_price(&p, 12.5, err));
    expect_ok(stores_product_decrease_price(&p, 10, err));
    expect_ok(stores_product_remove(&p, err));
    int failures = 0;
    for (size_t k = 0; k < p.agg.base.events.n; k++) {
        ddd_event *ev = p.agg.base.events.items[k];
        core_status st = CORE_ERR_NOMEM;
        for (long n = 0; n < 100 && st != CORE_OK; n++) {
            core_err e = CORE_ERR_INIT;
            core_alloc_fail_after(n);
            st = ddd_dispatcher_publish(events, &ev, 1, &e);
            core_alloc_fail_after(-1);
            if (st == CORE_OK)
                break;
            failures++;
            if (st != CORE_ERR_NOMEM)
                fail_msg("%s with allocation %ld failing: wanted CORE_ERR_NOMEM, got %s \"%s\"",
                         ddd_event_name(ev), n, core_status_name(st), e.msg);
        }
        assert_int_equal(st, CORE_OK);
    }
    stores_product_release(&p);
    if (failures < 10)
        fail_msg("only %d allocation failures in five publishes: are the builders written?",
                 failures);
    expect_stream(
        P "storesapi.ProductAdded id=<id of stores.ProductAdded> | " LAMP,
        P
        "storesapi.ProductRebranded id=<id of stores.ProductRebranded> | id=p-1 name=Lava Lamp XL "
        "description=groovier",
        P "storesapi.ProductPriceIncreased id=<id of stores.ProductPriceIncreased> | id=p-1 "
          "delta=+2.5100",
        P "storesapi.ProductPriceDecreased id=<id of stores.ProductPriceDecreased> | id=p-1 "
          "delta=-2.5000",
        P "storesapi.ProductRemoved id=<id of stores.ProductRemoved> | id=p-1");
}

/* The broker is gone: the product is stored, its announcement is lost, and the caller learns both
 * (HTTP 503 at the edge). on_domain_event() does this for every row of translations[]. */
static void a_broker_that_is_away_is_reported(void **state)
{
    (void)state;
    core_err e = CORE_ERR_INIT;
    expect_ok(am_stream_close(stream, 100, err));
    struct stores_product p = STORES_PRODUCT_INIT;
    expect_ok(stores_product_create(&p, "p-1", "s-1", "Lava Lamp", "groovy", "LL-1", 9.99, err));
    core_status st = es_repo_save(products, &p, &e);
    stores_product_release(&p);
    if (st != CORE_ERR_UNAVAILABLE)
        fail_msg("saving a product while the broker is away: wanted CORE_ERR_UNAVAILABLE, got %s "
                 "\"%s\" (is the product's row in translations[]?)",
                 core_status_name(st), e.msg);
    assert_string_equal(core_err_client_msg(&e), "the change was saved but not published: the "
                                                 "message broker is unavailable");
    struct stores_product loaded = STORES_PRODUCT_INIT;
    expect_ok(es_repo_load(products, "p-1", &loaded, err));
    assert_string_equal(loaded.name, "Lava Lamp");
    stores_product_release(&loaded);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(product_added_is_announced),
        T(product_rebranded_is_announced),
        T(price_changes_carry_their_delta),
        T(product_removed_is_announced),
        T(a_whole_life_in_order),
        T(one_domain_event_is_one_message),
        T(out_of_memory_is_reported_and_leaks_nothing),
        T(a_broker_that_is_away_is_reported),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
