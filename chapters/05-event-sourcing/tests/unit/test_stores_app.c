/* test_stores_app.c -- unit tests of stores/application.h (chapter 05: event sourcing and read
 * models). The app runs on the real event-sourcing core over the IN-MEMORY event store
 * (es_mem_store_new: the same registry, versions and conflicts as the PostgreSQL one), a real
 * ddd_dispatcher with the module's real MallHandlers and CatalogHandlers, and in-memory fakes of
 * the two read models (tests/support/stores_fakes.h). So each test drives the whole write path
 * (load from events -> rule -> append -> publish -> project into the read model) and the read
 * path (queries on the read models), and checks the events in the store, the published events
 * (a recorder on every stores event) and the read-model rows. Also: unknown ids, broken rules
 * (nothing stored, nothing published), a concurrent modification (CORE_ERR_CONFLICT, nothing
 * stored), snapshots, an event store that is down, a read model that fails (the events are
 * stored: the dual write), allocation failures. No servers. Every test checks it leaks nothing. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core.h"
#include "es.h"
#include "pb.h"
#include "stores/application.h"
#include "stores/domain_events.pb-c.h"
#include "stores/handlers.h"
#include "stores/snapshots.pb-c.h"
#include "stores_fakes.h"

static es_registry *types;
static es_store *store;
static ddd_dispatcher *events;
static es_repo *store_repo, *product_repo;
static struct stores_fake_read_models rm;
static struct stores_app app;
static long live_at_start;

/* ---- a recording handler on every stores event (subscribed after the read-model handlers) ---- */

#define REC_MAX 16

static struct {
    char names[REC_MAX][DDD_NAME_MAX + 1]; /* the events seen, in order */
    char ids[REC_MAX][STORES_ID_MAX + 1];
    char versions[REC_MAX][24];
    size_t n;
} rec;

static const char *const all_events[] = {
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

static core_status recorder(void *ud, const ddd_event *ev, core_err *err)
{
    (void)ud;
    (void)err;
    size_t i = rec.n++;
    assert_true(i < REC_MAX);
    core_strlcpy(rec.names[i], ddd_event_name(ev), sizeof rec.names[i]);
    core_strlcpy(rec.ids[i], ddd_event_metadata(ev, "aggregate-id"), sizeof rec.ids[i]);
    core_strlcpy(rec.versions[i], ddd_event_metadata(ev, "aggregate-version"),
                 sizeof rec.versions[i]);
    return CORE_OK;
}

/* ---- set-up ------------------------------------------------------------------------------- */

static void add_store(const char *id, const char *name, bool participating)
{
    assert_int_equal(stores_app_create_store(&app, id, name, "Level 1", NULL), CORE_OK);
    if (participating)
        assert_int_equal(stores_app_enable_participation(&app, id, NULL), CORE_OK);
}

static void add_product(const char *id, const char *store_id, const char *name, double price)
{
    struct stores_add_product cmd = {id, store_id, name, "", "", price};
    assert_int_equal(stores_app_add_product(&app, &cmd, NULL), CORE_OK);
}

/* The app over the in-memory event store, with the fixtures s-1 "Waldorf Books" (not
 * participating), s-2 "Nic & Naks" (participating), p-1 in s-1, p-2 and p-3 in s-2. */
static int setup(void **state)
{
    (void)state;
    live_at_start = core_alloc_live();
    memset(&rec, 0, sizeof rec);
    assert_int_equal(es_registry_new(&types, NULL), CORE_OK);
    assert_int_equal(stores_register_types(types, NULL), CORE_OK);
    assert_int_equal(es_mem_store_new(&store, types, NULL), CORE_OK);
    assert_int_equal(ddd_dispatcher_new(&events, NULL), CORE_OK);
    assert_int_equal(es_repo_new(&store_repo, &stores_store_type, store, events, 3, NULL), CORE_OK);
    assert_int_equal(es_repo_new(&product_repo, &stores_product_type, store, events, 3, NULL),
                     CORE_OK);
    stores_fake_init(&rm);
    app.stores = store_repo;
    app.products = product_repo;
    stores_fake_mall(&app.mall, &rm);
    stores_fake_catalog(&app.catalog, &rm);
    assert_int_equal(stores_register_mall_handlers(events, &app.mall, NULL), CORE_OK);
    assert_int_equal(stores_register_catalog_handlers(events, &app.catalog, NULL), CORE_OK);
    for (size_t i = 0; i < sizeof all_events / sizeof all_events[0]; i++)
        assert_int_equal(
            ddd_dispatcher_subscribe(events, all_events[i], "recorder", recorder, NULL, NULL),
            CORE_OK);

    add_store("s-1", "Waldorf Books", false);
    add_store("s-2", "Nic & Naks", true);
    add_product("p-1", "s-1", "EDA with Golang", 49.99);
    add_product("p-2", "s-2", "Wizard w/ crystal", 9.98);
    add_product("p-3", "s-2", "Crystal ball", 19.5);
    memset(&rec, 0, sizeof rec);
    rm.writes = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    es_repo_free(product_repo);
    es_repo_free(store_repo);
    ddd_dispatcher_free(events);
    es_store_free(store);
    es_registry_free(types);
    stores_fake_release(&rm);
    assert_int_equal(core_alloc_live(), live_at_start);
    return 0;
}

static void expect_error(core_status got, const core_err *err, core_status want, const char *msg)
{
    assert_int_equal(got, want);
    assert_int_equal(err->status, want);
    assert_string_equal(err->msg, msg);
}

/* The names of the events stored for (stream, id), comma-separated into out. */
static const char *stored(const char *stream, const char *id)
{
    static char out[1024];
    struct ddd_event_list list = DDD_EVENT_LIST_INIT;
    assert_int_equal(es_store_load(store, stream, id, 0, &list, NULL), CORE_OK);
    out[0] = '\0';
    for (size_t i = 0; i < list.n; i++) {
        size_t len = strlen(out);
        snprintf(out + len, sizeof out - len, "%s%s", i ? "," : "",
                 ddd_event_name(list.items[i]) + 7);
    }
    ddd_event_list_release(&list);
    return out;
}

/* The payload of event number version (1-based) of (stream, id), which must be of type desc, into
 * *out (caller frees with pb_free). */
static void stored_payload(const char *stream, const char *id, size_t version,
                           const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
    struct ddd_event_list list = DDD_EVENT_LIST_INIT;
    assert_int_equal(es_store_load(store, stream, id, version - 1, &list, NULL), CORE_OK);
    assert_true(list.n >= 1);
    assert_true(ddd_event_payload_is(list.items[0], desc));
    unsigned char *buf = NULL;
    size_t len = 0;
    assert_int_equal(pb_pack(ddd_event_payload(list.items[0]), &buf, &len, NULL), CORE_OK);
    assert_int_equal(pb_unpack(desc, buf, len, out, NULL), CORE_OK);
    core_free(buf);
    ddd_event_list_release(&list);
}

/* ---- stores ------------------------------------------------------------------------------- */

static void create_store_stores_its_event_and_fills_the_mall(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_app_create_store(&app, "s-3", "Store ABC", "The mall", &err), CORE_OK);
    assert_string_equal(stored("stores.Store", "s-3"), "StoreCreated");
    ProtobufCMessage *m = NULL;
    stored_payload("stores.Store", "s-3", 1, &stores__domain__store_created__descriptor, &m);
    assert_string_equal(((Stores__Domain__StoreCreated *)m)->name, "Store ABC");
    assert_string_equal(((Stores__Domain__StoreCreated *)m)->location, "The mall");
    pb_free(m);
    const struct stores_mall_store *row = stores_fake_store(&rm, "s-3");
    assert_non_null(row);
    assert_string_equal(row->name, "Store ABC");
    assert_string_equal(row->location, "The mall");
    assert_false(row->participating);
    assert_int_equal(rm.writes, 1);
    assert_int_equal(rec.n, 1);
    assert_string_equal(rec.names[0], "stores.StoreCreated");
    assert_string_equal(rec.ids[0], "s-3");
    assert_string_equal(rec.versions[0], "1");
}

static void create_store_rules_store_nothing(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    expect_error(stores_app_create_store(&app, "s-3", "", "The mall", &err), &err, CORE_ERR_INVALID,
                 "the store name cannot be blank");
    expect_error(stores_app_create_store(&app, "s-3", "Store ABC", " ", &err), &err,
                 CORE_ERR_INVALID, "the store location cannot be blank");
    expect_error(stores_app_create_store(&app, "", "Store ABC", "The mall", &err), &err,
                 CORE_ERR_INVALID, "the store id cannot be blank");
    assert_string_equal(stored("stores.Store", "s-3"), "");
    assert_null(stores_fake_store(&rm, "s-3"));
    assert_int_equal(rm.writes, 0);
    assert_int_equal(rec.n, 0);
}

/* A store id that already has events: the append at version 0 is refused. */
static void create_store_twice_is_a_conflict(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    expect_error(stores_app_create_store(&app, "s-2", "Again", "The mall", &err), &err,
                 CORE_ERR_CONFLICT,
                 "stores.Store s-2 already exists (expected version 0, stored version 2)");
    assert_string_equal(stored("stores.Store", "s-2"), "StoreCreated,StoreParticipationEnabled");
    assert_string_equal(stores_fake_store(&rm, "s-2")->name, "Nic & Naks");
    assert_int_equal(rec.n, 0);
}

static void participation_is_toggled(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_app_enable_participation(&app, "s-1", &err), CORE_OK);
    assert_true(stores_fake_store(&rm, "s-1")->participating);
    assert_int_equal(stores_app_disable_participation(&app, "s-2", &err), CORE_OK);
    assert_false(stores_fake_store(&rm, "s-2")->participating);
    assert_string_equal(stored("stores.Store", "s-1"), "StoreCreated,StoreParticipationEnabled");
    assert_string_equal(stored("stores.Store", "s-2"),
                        "StoreCreated,StoreParticipationEnabled,StoreParticipationDisabled");
    assert_int_equal(rm.writes, 2);
    assert_int_equal(rec.n, 2);
    assert_string_equal(rec.names[1], "stores.StoreParticipationDisabled");
    assert_string_equal(rec.versions[1], "3");
}

static void participation_rules(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    expect_error(stores_app_enable_participation(&app, "s-2", &err), &err, CORE_ERR_INVALID,
                 "the store is already participating");
    expect_error(stores_app_disable_participation(&app, "s-1", &err), &err, CORE_ERR_INVALID,
                 "the store is already not participating");
    expect_error(stores_app_enable_participation(&app, "nope", &err), &err, CORE_ERR_NOT_FOUND,
                 "store nope not found");
    expect_error(stores_app_disable_participation(&app, "nope", &err), &err, CORE_ERR_NOT_FOUND,
                 "store nope not found");
    expect_error(stores_app_enable_participation(&app, "", &err), &err, CORE_ERR_INVALID,
                 "the store id cannot be blank");
    expect_error(stores_app_disable_participation(&app, NULL, &err), &err, CORE_ERR_INVALID,
                 "the store id cannot be blank");
    assert_string_equal(stored("stores.Store", "s-1"), "StoreCreated");
    assert_int_equal(rm.writes, 0);
    assert_int_equal(rec.n, 0);
}

static void rebrand_store(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    char long_id[STORES_ID_MAX + 2];
    memset(long_id, 's', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    assert_int_equal(stores_app_rebrand_store(&app, "s-2", "Nic & Naks & Co", &err), CORE_OK);
    const struct stores_mall_store *row = stores_fake_store(&rm, "s-2");
    assert_string_equal(row->name, "Nic & Naks & Co");
    assert_string_equal(row->location, "Level 1");
    assert_true(row->participating);
    assert_string_equal(stored("stores.Store", "s-2"),
                        "StoreCreated,StoreParticipationEnabled,StoreRebranded");
    ProtobufCMessage *m = NULL;
    stored_payload("stores.Store", "s-2", 3, &stores__domain__store_rebranded__descriptor, &m);
    assert_string_equal(((Stores__Domain__StoreRebranded *)m)->name, "Nic & Naks & Co");
    pb_free(m);

    expect_error(stores_app_rebrand_store(&app, "s-2", " ", &err), &err, CORE_ERR_INVALID,
                 "the store name cannot be blank");
    expect_error(stores_app_rebrand_store(&app, "nope", "X", &err), &err, CORE_ERR_NOT_FOUND,
                 "store nope not found");
    char long_msg[128];
    snprintf(long_msg, sizeof long_msg, "store %s not found", long_id); /* no store can have it */
    expect_error(stores_app_rebrand_store(&app, long_id, "X", &err), &err, CORE_ERR_NOT_FOUND,
                 long_msg);
    expect_error(stores_app_rebrand_store(&app, NULL, "X", &err), &err, CORE_ERR_INVALID,
                 "the store id cannot be blank");
    assert_string_equal(row->name, "Nic & Naks & Co");
    assert_int_equal(rm.writes, 1);
    assert_int_equal(rec.n, 1);
}

/* ---- products ----------------------------------------------------------------------------- */

static void add_product_stores_its_event_and_fills_the_catalog(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_add_product cmd = {"p-9",        "s-1", "Product ABC", "Product description",
                                     "productABC", 9.99};
    assert_int_equal(stores_app_add_product(&app, &cmd, &err), CORE_OK);
    assert_string_equal(stored("stores.Product", "p-9"), "ProductAdded");
    ProtobufCMessage *m = NULL;
    stored_payload("stores.Product", "p-9", 1, &stores__domain__product_added__descriptor, &m);
    const Stores__Domain__ProductAdded *added = (const void *)m;
    assert_string_equal(added->store_id, "s-1");
    assert_string_equal(added->sku, "productABC");
    assert_true(added->price == 9.99);
    pb_free(m);
    const struct stores_catalog_product *row = stores_fake_product(&rm, "p-9");
    assert_non_null(row);
    assert_string_equal(row->store_id, "s-1");
    assert_string_equal(row->name, "Product ABC");
    assert_string_equal(row->description, "Product description");
    assert_string_equal(row->sku, "productABC");
    assert_true(row->price == 9.99);
    assert_int_equal(rm.writes, 1);
    assert_int_equal(rec.n, 1);
    assert_string_equal(rec.ids[0], "p-9");
}

static void add_product_to_unknown_store_is_not_found(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_add_product cmd = {"p-9", "nope", "Product ABC", "", "", 9.99};
    expect_error(stores_app_add_product(&app, &cmd, &err), &err, CORE_ERR_NOT_FOUND,
                 "store nope not found");
    /* the store is looked up before the product's rules */
    struct stores_add_product bad = {"p-9", "nope", "", "", "", -1};
    expect_error(stores_app_add_product(&app, &bad, &err), &err, CORE_ERR_NOT_FOUND,
                 "store nope not found");
    struct stores_add_product blank = {"p-9", "", "Product ABC", "", "", 1};
    expect_error(stores_app_add_product(&app, &blank, &err), &err, CORE_ERR_INVALID,
                 "the store id cannot be blank");
    /* the mall read model does not decide, the store's events do: a row without events (like
     * chapter 03's seed rows) is no store a product can be added to */
    assert_int_equal(app.mall.add_store(app.mall.self, "s-ghost", "Ghost", "Nowhere", NULL),
                     CORE_OK);
    struct stores_add_product ghost = {"p-9", "s-ghost", "Product ABC", "", "", 1};
    expect_error(stores_app_add_product(&app, &ghost, &err), &err, CORE_ERR_NOT_FOUND,
                 "store s-ghost not found");
    assert_string_equal(stored("stores.Product", "p-9"), "");
    assert_null(stores_fake_product(&rm, "p-9"));
    assert_int_equal(rec.n, 0);
}

static void add_product_rules_store_nothing(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_add_product no_name = {"p-9", "s-1", " ", "", "", 1.0};
    expect_error(stores_app_add_product(&app, &no_name, &err), &err, CORE_ERR_INVALID,
                 "the product name cannot be blank");
    struct stores_add_product negative = {"p-9", "s-1", "Product ABC", "", "", -0.5};
    expect_error(stores_app_add_product(&app, &negative, &err), &err, CORE_ERR_INVALID,
                 "the product price cannot be negative");
    struct stores_add_product dear = {"p-9", "s-1", "Product ABC", "", "", 1e6};
    expect_error(stores_app_add_product(&app, &dear, &err), &err, CORE_ERR_INVALID,
                 "the product price cannot be over 99999.9999");
    assert_string_equal(stored("stores.Product", "p-9"), "");
    assert_null(stores_fake_product(&rm, "p-9"));
    assert_int_equal(rm.writes, 0);
    assert_int_equal(rec.n, 0);
}

static void rebrand_product(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(
        stores_app_rebrand_product(&app, "p-2", "Wizard w/ big crystal", "now bigger", &err),
        CORE_OK);
    const struct stores_catalog_product *row = stores_fake_product(&rm, "p-2");
    assert_string_equal(row->name, "Wizard w/ big crystal");
    assert_string_equal(row->description, "now bigger");
    assert_true(row->price == 9.98);
    assert_string_equal(stored("stores.Product", "p-2"), "ProductAdded,ProductRebranded");
    expect_error(stores_app_rebrand_product(&app, "p-2", "", "x", &err), &err, CORE_ERR_INVALID,
                 "the product name cannot be blank");
    expect_error(stores_app_rebrand_product(&app, "nope", "X", "x", &err), &err, CORE_ERR_NOT_FOUND,
                 "product nope not found");
    expect_error(stores_app_rebrand_product(&app, " ", "X", "x", &err), &err, CORE_ERR_INVALID,
                 "the product id cannot be blank");
    assert_string_equal(row->name, "Wizard w/ big crystal");
    assert_int_equal(rec.n, 1);
    assert_string_equal(rec.names[0], "stores.ProductRebranded");
}

static void price_changes(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    const struct stores_catalog_product *row = stores_fake_product(&rm, "p-2");
    assert_int_equal(stores_app_increase_product_price(&app, "p-2", 12.48, &err), CORE_OK);
    assert_true(fabs(row->price - 12.48) < 1e-9);
    assert_int_equal(stores_app_decrease_product_price(&app, "p-2", 8.5, &err), CORE_OK);
    assert_true(fabs(row->price - 8.5) < 1e-9);
    assert_string_equal(stored("stores.Product", "p-2"),
                        "ProductAdded,ProductPriceIncreased,ProductPriceDecreased");
    ProtobufCMessage *m = NULL;
    stored_payload("stores.Product", "p-2", 2, &stores__domain__product_price_changed__descriptor,
                   &m);
    assert_true(((Stores__Domain__ProductPriceChanged *)m)->delta == 2.5);
    pb_free(m);
    stored_payload("stores.Product", "p-2", 3, &stores__domain__product_price_changed__descriptor,
                   &m);
    assert_true(((Stores__Domain__ProductPriceChanged *)m)->delta == -3.98);
    pb_free(m);

    /* the rules compare with the price the events add up to */
    expect_error(stores_app_increase_product_price(&app, "p-2", 8.49, &err), &err, CORE_ERR_INVALID,
                 "the price change would be a decrease");
    expect_error(stores_app_decrease_product_price(&app, "p-2", 8.51, &err), &err, CORE_ERR_INVALID,
                 "the price change would be an increase");
    expect_error(stores_app_increase_product_price(&app, "p-2", 8.5, &err), &err, CORE_ERR_INVALID,
                 "the price change would be zero");
    expect_error(stores_app_decrease_product_price(&app, "p-2", 8.5, &err), &err, CORE_ERR_INVALID,
                 "the price change would be zero");
    expect_error(stores_app_decrease_product_price(&app, "p-2", -1, &err), &err, CORE_ERR_INVALID,
                 "the product price cannot be negative");
    expect_error(stores_app_increase_product_price(&app, "p-2", 123456, &err), &err,
                 CORE_ERR_INVALID, "the product price cannot be over 99999.9999");
    expect_error(stores_app_increase_product_price(&app, "nope", 1, &err), &err, CORE_ERR_NOT_FOUND,
                 "product nope not found");
    expect_error(stores_app_decrease_product_price(&app, "nope", 1, &err), &err, CORE_ERR_NOT_FOUND,
                 "product nope not found");
    expect_error(stores_app_decrease_product_price(&app, "", 1, &err), &err, CORE_ERR_INVALID,
                 "the product id cannot be blank");
    assert_true(fabs(row->price - 8.5) < 1e-9);
    assert_int_equal(rec.n, 2);
    assert_string_equal(rec.names[0], "stores.ProductPriceIncreased");
    assert_string_equal(rec.names[1], "stores.ProductPriceDecreased");
    assert_string_equal(rec.versions[1], "3");
}

static void remove_product(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_catalog_product p = STORES_CATALOG_PRODUCT_INIT;
    assert_int_equal(stores_app_remove_product(&app, "p-2", &err), CORE_OK);
    assert_null(stores_fake_product(&rm, "p-2"));
    assert_int_equal(rm.products.len, 2);
    assert_string_equal(stored("stores.Product", "p-2"), "ProductAdded,ProductRemoved");
    /* its events stay, but the product is gone for every command and query */
    expect_error(stores_app_remove_product(&app, "p-2", &err), &err, CORE_ERR_NOT_FOUND,
                 "product p-2 not found");
    expect_error(stores_app_rebrand_product(&app, "p-2", "Back", "", &err), &err,
                 CORE_ERR_NOT_FOUND, "product p-2 not found");
    expect_error(stores_app_increase_product_price(&app, "p-2", 20, &err), &err, CORE_ERR_NOT_FOUND,
                 "product p-2 not found");
    expect_error(stores_app_get_product(&app, "p-2", &p, &err), &err, CORE_ERR_NOT_FOUND,
                 "product p-2 not found");
    expect_error(stores_app_remove_product(&app, "", &err), &err, CORE_ERR_INVALID,
                 "the product id cannot be blank");
    assert_string_equal(stored("stores.Product", "p-2"), "ProductAdded,ProductRemoved");
    assert_int_equal(rec.n, 1);
    assert_string_equal(rec.names[0], "stores.ProductRemoved");
}

/* ---- queries ------------------------------------------------------------------------------ */

static void get_store(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_mall_store s = STORES_MALL_STORE_INIT;
    assert_int_equal(stores_app_get_store(&app, "s-2", &s, &err), CORE_OK);
    assert_string_equal(s.id, "s-2");
    assert_string_equal(s.name, "Nic & Naks");
    assert_true(s.participating);
    stores_mall_store_release(&s);
    expect_error(stores_app_get_store(&app, "nope", &s, &err), &err, CORE_ERR_NOT_FOUND,
                 "store nope not found");
    assert_null(s.name);
    expect_error(stores_app_get_store(&app, " ", &s, &err), &err, CORE_ERR_INVALID,
                 "the store id cannot be blank");
    rm.fail_op = "mall.find";
    expect_error(stores_app_get_store(&app, "s-1", &s, &err), &err, CORE_ERR_IO, "db down");
    assert_null(s.name);
    assert_int_equal(rec.n, 0); /* queries publish nothing */
}

static void get_stores_and_participating_stores(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_mall_store_list l = STORES_MALL_STORE_LIST_INIT;
    add_store("s-0", "Amber Antiques", true);
    assert_int_equal(stores_app_get_stores(&app, &l, &err), CORE_OK);
    assert_int_equal(l.len, 3);
    assert_string_equal(l.items[0].name, "Amber Antiques"); /* by name */
    assert_string_equal(l.items[1].id, "s-2");
    assert_string_equal(l.items[2].id, "s-1");
    stores_mall_store_list_release(&l);

    assert_int_equal(stores_app_get_participating_stores(&app, &l, &err), CORE_OK);
    assert_int_equal(l.len, 2);
    assert_string_equal(l.items[0].id, "s-0");
    assert_string_equal(l.items[1].name, "Nic & Naks");
    stores_mall_store_list_release(&l);

    /* a read model failing halfway: the error is passed up and the list is left empty */
    rm.fail_op = "mall.all";
    expect_error(stores_app_get_stores(&app, &l, &err), &err, CORE_ERR_IO, "db down");
    assert_int_equal(l.len, 0);
    assert_null(l.items);
    rm.fail_op = "mall.all_participating";
    expect_error(stores_app_get_participating_stores(&app, &l, &err), &err, CORE_ERR_IO, "db down");
    assert_int_equal(l.len, 0);
}

static void get_catalog(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_catalog_product_list l = STORES_CATALOG_PRODUCT_LIST_INIT;
    assert_int_equal(stores_app_get_catalog(&app, "s-2", &l, &err), CORE_OK);
    assert_int_equal(l.len, 2);
    assert_string_equal(l.items[0].name, "Crystal ball");
    assert_string_equal(l.items[1].name, "Wizard w/ crystal");
    assert_string_equal(l.items[1].store_id, "s-2");
    stores_catalog_product_list_release(&l);

    add_store("s-3", "Empty", false);
    assert_int_equal(stores_app_get_catalog(&app, "s-3", &l, &err), CORE_OK);
    assert_int_equal(l.len, 0);

    expect_error(stores_app_get_catalog(&app, "nope", &l, &err), &err, CORE_ERR_NOT_FOUND,
                 "store nope not found");
    expect_error(stores_app_get_catalog(&app, "", &l, &err), &err, CORE_ERR_INVALID,
                 "the store id cannot be blank");
    rm.fail_op = "catalog.catalog";
    expect_error(stores_app_get_catalog(&app, "s-2", &l, &err), &err, CORE_ERR_IO, "db down");
    assert_int_equal(l.len, 0);
    assert_null(l.items);
    rm.fail_op = "mall.find";
    expect_error(stores_app_get_catalog(&app, "s-2", &l, &err), &err, CORE_ERR_IO, "db down");
}

static void get_product(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_catalog_product p = STORES_CATALOG_PRODUCT_INIT;
    assert_int_equal(stores_app_get_product(&app, "p-2", &p, &err), CORE_OK);
    assert_string_equal(p.name, "Wizard w/ crystal");
    assert_string_equal(p.store_id, "s-2");
    assert_true(p.price == 9.98);
    stores_catalog_product_release(&p);
    expect_error(stores_app_get_product(&app, "nope", &p, &err), &err, CORE_ERR_NOT_FOUND,
                 "product nope not found");
    expect_error(stores_app_get_product(&app, NULL, &p, &err), &err, CORE_ERR_INVALID,
                 "the product id cannot be blank");
    rm.fail_op = "catalog.find";
    expect_error(stores_app_get_product(&app, "p-1", &p, &err), &err, CORE_ERR_IO, "db down");
    assert_null(p.name);
}

static void null_err_is_allowed(void **state)
{
    (void)state;
    assert_int_equal(stores_app_enable_participation(&app, "nope", NULL), CORE_ERR_NOT_FOUND);
    assert_int_equal(stores_app_create_store(&app, "s-3", "", "x", NULL), CORE_ERR_INVALID);
    assert_int_equal(stores_app_decrease_product_price(&app, "p-1", 50, NULL), CORE_ERR_INVALID);
}

/* ---- event sourcing ----------------------------------------------------------------------- */

/* Every third version the repository writes a snapshot; later loads start from it and still see
 * the right state. */
static void snapshots_are_written_and_used(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct es_snapshot snap = ES_SNAPSHOT_INIT;
    assert_int_equal(es_store_load_snapshot(store, "stores.Product", "p-1", &snap, &err),
                     CORE_ERR_NOT_FOUND);
    assert_int_equal(stores_app_rebrand_product(&app, "p-1", "EDA in Go", "2nd edition", &err),
                     CORE_OK);
    assert_int_equal(stores_app_increase_product_price(&app, "p-1", 54.99, &err),
                     CORE_OK); /* version 3 */
    assert_int_equal(es_store_load_snapshot(store, "stores.Product", "p-1", &snap, &err), CORE_OK);
    assert_int_equal(snap.version, 3);
    assert_string_equal(snap.name, "stores.ProductV1");
    const Stores__Domain__ProductV1 *m = (const void *)snap.data;
    assert_string_equal(m->name, "EDA in Go");
    assert_string_equal(m->description, "2nd edition");
    assert_true(m->price == 54.99);
    assert_false(m->removed);
    es_snapshot_release(&snap);

    /* loaded from the snapshot (+ no events after it): the rules see price 54.99 */
    expect_error(stores_app_decrease_product_price(&app, "p-1", 55, &err), &err, CORE_ERR_INVALID,
                 "the price change would be an increase");
    assert_int_equal(stores_app_decrease_product_price(&app, "p-1", 44.99, &err),
                     CORE_OK);                                               /* version 4 */
    assert_int_equal(stores_app_remove_product(&app, "p-1", &err), CORE_OK); /* version 5 */
    assert_int_equal(stores_app_rebrand_store(&app, "s-2", "N&N", &err),
                     CORE_OK); /* store version 3 */
    assert_int_equal(es_store_load_snapshot(store, "stores.Store", "s-2", &snap, &err), CORE_OK);
    assert_string_equal(snap.name, "stores.StoreV1");
    assert_string_equal(((const Stores__Domain__StoreV1 *)snap.data)->name, "N&N");
    assert_true(((const Stores__Domain__StoreV1 *)snap.data)->participating);
    es_snapshot_release(&snap);
    assert_int_equal(stores_app_disable_participation(&app, "s-2", &err), CORE_OK);
    expect_error(stores_app_disable_participation(&app, "s-2", &err), &err, CORE_ERR_INVALID,
                 "the store is already not participating");
    /* a removed product stays removed across the snapshot at version 6 */
    assert_int_equal(stores_app_add_product(
                         &app, &(struct stores_add_product){"p-7", "s-2", "Orb", "", "", 1}, &err),
                     CORE_OK);
    assert_int_equal(stores_app_rebrand_product(&app, "p-7", "Orb 2", "", &err), CORE_OK);
    assert_int_equal(stores_app_remove_product(&app, "p-7", &err),
                     CORE_OK); /* version 3: snapshot */
    assert_int_equal(es_store_load_snapshot(store, "stores.Product", "p-7", &snap, &err), CORE_OK);
    assert_true(((const Stores__Domain__ProductV1 *)snap.data)->removed);
    es_snapshot_release(&snap);
    expect_error(stores_app_rebrand_product(&app, "p-7", "Orb 3", "", &err), &err,
                 CORE_ERR_NOT_FOUND, "product p-7 not found");
}

/* A product type whose apply, once armed, lets a competing client change the same product right
 * after our load has read the product's events (es_repo_load reads all events, then applies them)
 * -- a concurrent modification, made deterministic. */
static struct stores_app rival;
static bool race_armed;

static core_status racing_apply(void *entity, const ddd_event *event, core_err *err)
{
    if (race_armed) {
        race_armed = false;
        struct stores_product *p = entity;
        assert_int_equal(stores_app_increase_product_price(&rival, p->agg.base.id, 11.0, NULL),
                         CORE_OK);
    }
    return stores_product_type.apply(entity, event, err);
}

static void concurrent_change_is_a_conflict(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct es_aggregate_type racing = stores_product_type;
    es_repo *racing_repo = NULL;
    racing.apply = racing_apply;
    assert_int_equal(es_repo_new(&racing_repo, &racing, store, events, 3, NULL), CORE_OK);
    rival = app; /* the other client: same event store, dispatcher and read models */
    app.products = racing_repo;

    race_armed = true;
    expect_error(
        stores_app_rebrand_product(&app, "p-2", "Mine", "", &err), &err, CORE_ERR_CONFLICT,
        "stores.Product p-2 was changed by someone else (expected version 1, stored version 2)");
    assert_false(race_armed);
    /* only the rival's change is stored, published and projected */
    assert_string_equal(stored("stores.Product", "p-2"), "ProductAdded,ProductPriceIncreased");
    assert_int_equal(rec.n, 1);
    assert_string_equal(rec.names[0], "stores.ProductPriceIncreased");
    assert_string_equal(stores_fake_product(&rm, "p-2")->name, "Wizard w/ crystal");
    assert_true(fabs(stores_fake_product(&rm, "p-2")->price - 11.0) < 1e-9);

    /* the client retries: it loads the new version and succeeds */
    assert_int_equal(stores_app_rebrand_product(&app, "p-2", "Mine", "", &err), CORE_OK);
    assert_string_equal(stored("stores.Product", "p-2"),
                        "ProductAdded,ProductPriceIncreased,ProductRebranded");
    assert_string_equal(stores_fake_product(&rm, "p-2")->name, "Mine");
    app.products = product_repo;
    es_repo_free(racing_repo);
}

/* A backend whose every operation fails: the event store is down. */
static core_status down_append(void *impl, const char *stream_name, const char *stream_id,
                               uint64_t expected, const struct es_record *recs, size_t n,
                               core_err *err)
{
    return core_err_set(err, CORE_ERR_UNAVAILABLE, "event store down");
}

static core_status down_load(void *impl, const char *stream_name, const char *stream_id,
                             uint64_t after, es_record_fn fn, void *ctx, core_err *err)
{
    return core_err_set(err, CORE_ERR_UNAVAILABLE, "event store down");
}

static core_status down_save_snapshot(void *impl, const char *stream_name, const char *stream_id,
                                      const struct es_snapshot_record *snapshot, core_err *err)
{
    return core_err_set(err, CORE_ERR_UNAVAILABLE, "event store down");
}

static core_status down_load_snapshot(void *impl, const char *stream_name, const char *stream_id,
                                      es_snapshot_record_fn fn, void *ctx, core_err *err)
{
    return core_err_set(err, CORE_ERR_UNAVAILABLE, "event store down");
}

static void down_free(void *impl)
{
    (void)impl;
}

static const struct es_store_ops down_ops = {
    "down", down_append, down_load, down_save_snapshot, down_load_snapshot, down_free};

static void event_store_down_is_passed_up(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    es_store *down = NULL;
    es_repo *down_stores = NULL, *down_products = NULL;
    assert_int_equal(es_store_new(&down, &down_ops, NULL, types, NULL), CORE_OK);
    assert_int_equal(es_repo_new(&down_stores, &stores_store_type, down, events, 3, NULL), CORE_OK);
    assert_int_equal(es_repo_new(&down_products, &stores_product_type, down, events, 3, NULL),
                     CORE_OK);
    app.stores = down_stores;
    app.products = down_products;
    expect_error(stores_app_create_store(&app, "s-3", "Store ABC", "The mall", &err), &err,
                 CORE_ERR_UNAVAILABLE, "event store down");
    assert_int_equal(stores_app_enable_participation(&app, "s-1", &err), CORE_ERR_UNAVAILABLE);
    assert_int_equal(stores_app_rebrand_store(&app, "s-1", "X", &err), CORE_ERR_UNAVAILABLE);
    struct stores_add_product cmd = {"p-9", "s-1", "Product ABC", "", "", 1.0};
    assert_int_equal(stores_app_add_product(&app, &cmd, &err), CORE_ERR_UNAVAILABLE);
    assert_int_equal(stores_app_rebrand_product(&app, "p-1", "X", "", &err), CORE_ERR_UNAVAILABLE);
    assert_int_equal(stores_app_increase_product_price(&app, "p-1", 60, &err),
                     CORE_ERR_UNAVAILABLE);
    assert_int_equal(stores_app_remove_product(&app, "p-1", &err), CORE_ERR_UNAVAILABLE);
    assert_int_equal(rec.n, 0);
    assert_int_equal(rm.writes, 0);
    /* the queries do not need the event store */
    struct stores_catalog_product p = STORES_CATALOG_PRODUCT_INIT;
    assert_int_equal(stores_app_get_product(&app, "p-1", &p, &err), CORE_OK);
    stores_catalog_product_release(&p);
    app.stores = store_repo;
    app.products = product_repo;
    es_repo_free(down_products);
    es_repo_free(down_stores);
    es_store_free(down);
}

/* A read model that fails: the command reports it, but the event IS stored (no second save may
 * follow) -- the read model is behind until chapter 09's outbox closes the gap. */
static void read_model_failure_is_reported_after_storing(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    rm.fail_op = "catalog.rebrand";
    expect_error(stores_app_rebrand_product(&app, "p-1", "EDA in Go", "", &err), &err, CORE_ERR_IO,
                 "stores.CatalogHandlers on stores.ProductRebranded: db down");
    assert_string_equal(stored("stores.Product", "p-1"), "ProductAdded,ProductRebranded");
    assert_string_equal(stores_fake_product(&rm, "p-1")->name, "EDA with Golang");
    assert_int_equal(rec.n, 0); /* the dispatcher stopped at the failing handler */
    rm.fail_op = "mall.add_store";
    expect_error(stores_app_create_store(&app, "s-3", "Store ABC", "The mall", &err), &err,
                 CORE_ERR_IO, "stores.MallHandlers on stores.StoreCreated: db down");
    assert_string_equal(stored("stores.Store", "s-3"), "StoreCreated");
    assert_null(stores_fake_store(&rm, "s-3"));
}

/* Every allocation on the way may fail: NOMEM and nothing stored, or NOMEM after storing while
 * projecting (the dual write), or success. */
static void commands_out_of_memory(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    int failures = 0;
    for (long n = 0; n < 200; n++) {
        core_alloc_fail_after(n);
        core_status st = stores_app_rebrand_product(&app, "p-3", "Crystal orb", "round", &err);
        core_alloc_fail_after(-1);
        const char *events_now = stored("stores.Product", "p-3");
        if (st == CORE_OK) {
            assert_string_equal(events_now, "ProductAdded,ProductRebranded");
            assert_string_equal(stores_fake_product(&rm, "p-3")->name, "Crystal orb");
            break;
        }
        failures++;
        assert_int_equal(st, CORE_ERR_NOMEM);
        if (strcmp(events_now, "ProductAdded") !=
            0) { /* stored, then projecting ran out of memory */
            assert_string_equal(events_now, "ProductAdded,ProductRebranded");
            break;
        }
        assert_string_equal(stores_fake_product(&rm, "p-3")->name, "Crystal ball");
    }
    assert_true(failures > 5);
}

/* The published events: in order, with their aggregate ids and versions; failed commands publish
 * nothing. */
static void commands_publish_their_events(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_add_product cmd = {"p-9", "s-3", "Product ABC", "", "", 1.0};
    assert_int_equal(stores_app_create_store(&app, "s-3", "Store ABC", "The mall", &err), CORE_OK);
    assert_int_equal(stores_app_enable_participation(&app, "s-3", &err), CORE_OK);
    assert_int_equal(stores_app_rebrand_store(&app, "s-3", "Store XYZ", &err), CORE_OK);
    assert_int_equal(stores_app_disable_participation(&app, "s-3", &err), CORE_OK);
    assert_int_equal(stores_app_add_product(&app, &cmd, &err), CORE_OK);
    assert_int_equal(stores_app_rebrand_product(&app, "p-9", "Product XYZ", "", &err), CORE_OK);
    assert_int_equal(stores_app_increase_product_price(&app, "p-9", 2.0, &err), CORE_OK);
    assert_int_equal(stores_app_decrease_product_price(&app, "p-9", 1.5, &err), CORE_OK);
    assert_int_equal(stores_app_remove_product(&app, "p-9", &err), CORE_OK);
    /* failing ones */
    assert_int_equal(stores_app_create_store(&app, "s-4", "", "The mall", &err), CORE_ERR_INVALID);
    assert_int_equal(stores_app_enable_participation(&app, "s-2", &err), CORE_ERR_INVALID);
    assert_int_equal(stores_app_remove_product(&app, "p-9", &err), CORE_ERR_NOT_FOUND);
    static const struct {
        const char *name, *id, *version;
    } want[] = {
        {"stores.StoreCreated", "s-3", "1"},
        {"stores.StoreParticipationEnabled", "s-3", "2"},
        {"stores.StoreRebranded", "s-3", "3"},
        {"stores.StoreParticipationDisabled", "s-3", "4"},
        {"stores.ProductAdded", "p-9", "1"},
        {"stores.ProductRebranded", "p-9", "2"},
        {"stores.ProductPriceIncreased", "p-9", "3"},
        {"stores.ProductPriceDecreased", "p-9", "4"},
        {"stores.ProductRemoved", "p-9", "5"},
    };
    assert_int_equal(rec.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < rec.n; i++) {
        assert_string_equal(rec.names[i], want[i].name);
        assert_string_equal(rec.ids[i], want[i].id);
        assert_string_equal(rec.versions[i], want[i].version);
    }
    /* and the read models followed */
    const struct stores_mall_store *s = stores_fake_store(&rm, "s-3");
    assert_string_equal(s->name, "Store XYZ");
    assert_false(s->participating);
    assert_null(stores_fake_product(&rm, "p-9"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(create_store_stores_its_event_and_fills_the_mall),
        T(create_store_rules_store_nothing),
        T(create_store_twice_is_a_conflict),
        T(participation_is_toggled),
        T(participation_rules),
        T(rebrand_store),
        T(add_product_stores_its_event_and_fills_the_catalog),
        T(add_product_to_unknown_store_is_not_found),
        T(add_product_rules_store_nothing),
        T(rebrand_product),
        T(price_changes),
        T(remove_product),
        T(get_store),
        T(get_stores_and_participating_stores),
        T(get_catalog),
        T(get_product),
        T(null_err_is_allowed),
        T(snapshots_are_written_and_used),
        T(concurrent_change_is_a_conflict),
        T(event_store_down_is_passed_up),
        T(read_model_failure_is_reported_after_storing),
        T(commands_out_of_memory),
        T(commands_publish_their_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
