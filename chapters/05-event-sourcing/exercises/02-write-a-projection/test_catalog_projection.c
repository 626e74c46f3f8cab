/* test_catalog_projection.c -- exercise 05.2: the catalog read model, projected from the product
 * events (stores/handlers.c: catalog_handle, stores_register_catalog_handlers).
 *
 * The handlers run on a REAL ddd_dispatcher, wired as stores/module.c wires them (the chapter's
 * MallHandlers, then your CatalogHandlers). The read models are the in-memory fakes of
 * tests/support/stores_fakes.h: a "database" with a mall and a catalog whose rows the tests read,
 * and whose operations can be told to fail ("db down"). The events are real: a test changes a
 * product with the chapter's domain functions (stores/domain.h) and publishes the events the
 * product raised, as es_repo_save does after storing them. The last tests run the whole module
 * in memory: commands store events (es_mem_store_new), the dispatcher runs the projections,
 * queries read the catalog.
 *
 * The tests are the to-do list, in the order the README suggests. A failing check prints what it
 * wanted and what happened. Every test also checks that it leaked nothing. No servers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core.h"
#include "ddd.h"
#include "es.h"
#include "pb.h"
#include "stores/application.h"
#include "stores/domain.h"
#include "stores/domain_events.pb-c.h"
#include "stores/handlers.h"
#include "stores_fakes.h"

/* ---- checking results ------------------------------------------------------------------------ */

/* want_msg NULL: any message; else the message must be exactly want_msg. */
static void check_result(core_status got, const core_err *err, core_status want,
                         const char *want_msg, const char *call, const char *file, int line)
{
    if (got == want && (want == CORE_OK || !want_msg || strcmp(err->msg, want_msg) == 0))
        return;
    print_error("error: in %s\n", call);
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

/* expect(call, status, text) / expect_ok(call): run call, which names its error argument `err`
 * (a fresh core_err for each call), and check the outcome. */
#define expect(call, want, text)                                                                   \
    do {                                                                                           \
        core_err err_ = CORE_ERR_INIT;                                                             \
        core_err *err = &err_;                                                                     \
        core_status got_ = (call);                                                                 \
        check_result(got_, err, (want), (text), #call, __FILE__, __LINE__);                        \
    } while (0)
#define expect_ok(call) expect(call, CORE_OK, NULL)

/* ---- fixtures -------------------------------------------------------------------------------- */

static long live_before;
static ddd_dispatcher *events;
static struct stores_fake_read_models rm; /* the mall and the catalog */
static struct stores_mall_repo mall;
static struct stores_catalog_repo catalog;
static core_status registered;        /* what stores_register_catalog_handlers returned */
static char registered_msg[256];      /* and its message */
static struct stores_product product; /* teardown releases them, also after a failed check */
static struct stores_store shop;
static struct ddd_event_list made; /* events made by hand */
static struct stores_catalog_product row;
static struct stores_catalog_product_list list;
/* The stores module as stores/module.c wires it, with the in-memory event store and the fake read
 * models (set up by in_memory_module(), freed by teardown). */
static struct {
    es_registry *types;
    es_store *store;
    es_repo *stores, *products;
    struct stores_app app;
} mod;

static int setup(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    core_alloc_fail_after(-1);
    live_before = core_alloc_live();
    stores_fake_init(&rm);
    stores_fake_mall(&mall, &rm);
    stores_fake_catalog(&catalog, &rm);
    stores_product_init(&product);
    stores_store_init(&shop);
    stores_catalog_product_init(&row);
    stores_catalog_product_list_init(&list);
    assert_int_equal(ddd_dispatcher_new(&events, NULL), CORE_OK);
    assert_int_equal(stores_register_mall_handlers(events, &mall, NULL), CORE_OK);
    registered = stores_register_catalog_handlers(events, &catalog, &err);
    snprintf(registered_msg, sizeof registered_msg, "%s", registered ? err.msg : "");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    stores_product_release(&product);
    stores_store_release(&shop);
    ddd_event_list_release(&made);
    stores_catalog_product_release(&row);
    stores_catalog_product_list_release(&list);
    es_repo_free(mod.products);
    es_repo_free(mod.stores);
    es_store_free(mod.store);
    es_registry_free(mod.types);
    memset(&mod, 0, sizeof mod);
    ddd_dispatcher_free(events);
    stores_fake_release(&rm);
    assert_int_equal(core_alloc_live(), live_before);
    return 0;
}

/* Every test needs the handlers subscribed. */
static void require_registration(void)
{
    if (registered == CORE_OK)
        return;
    print_error("error: stores_register_catalog_handlers(events, &catalog, err): wanted CORE_OK, "
                "got %s \"%s\"\n",
                core_status_name(registered), registered_msg);
    fail();
}

/* Publishes the events agg raised (as es_repo_save does once they are stored), then drops them
 * from the aggregate. Returns what the dispatcher returned. */
static core_status publish(struct es_aggregate *agg, core_err *err)
{
    core_status st =
        ddd_dispatcher_publish(events, agg->base.events.items, agg->base.events.n, err);
    ddd_aggregate_clear_events(&agg->base);
    return st;
}

/* A catalog row as one line: "store_id|name|description|sku|price", or "(no row)". */
static const char *catalog_row(const char *id)
{
    static char buf[512];
    const struct stores_catalog_product *r = stores_fake_product(&rm, id);
    if (!r)
        return "(no row)";
    snprintf(buf, sizeof buf, "%s|%s|%s|%s|%.4f", r->store_id, r->name, r->description, r->sku,
             r->price);
    return buf;
}

#define expect_row(id, want)                                                                       \
    do {                                                                                           \
        const char *got_ = catalog_row(id);                                                        \
        if (strcmp(got_, (want)) != 0) {                                                           \
            print_error("error: the catalog row of %s: wanted \"%s\", got \"%s\"\n", (id), (want), \
                        got_);                                                                     \
            _fail(__FILE__, __LINE__);                                                             \
        }                                                                                          \
    } while (0)

#define expect_writes(want)                                                                        \
    do {                                                                                           \
        if (rm.writes != (want)) {                                                                 \
            print_error("error: writes to the read models: wanted %d, got %d\n", (want),           \
                        rm.writes);                                                                \
            _fail(__FILE__, __LINE__);                                                             \
        }                                                                                          \
    } while (0)

/* product = the new product p-1 "Lava Lamp" of store s-1 at 9.5, its ProductAdded published. */
static void lava_lamp_published(void)
{
    expect_ok(
        stores_product_create(&product, "p-1", "s-1", "Lava Lamp", "groovy", "LL-1", 9.5, err));
    expect_ok(publish(&product.agg, err));
}

/* An event made by hand (borrowed: the fixture owns it): name, payload (ownership taken) and,
 * unless id is NULL, the metadata "aggregate-id". */
static ddd_event *event_of(const char *name, ProtobufCMessage *payload, const char *id)
{
    ddd_event *ev = NULL;
    assert_non_null(payload);
    assert_int_equal(ddd_event_new(&ev, name, &payload, NULL), CORE_OK);
    if (id)
        assert_int_equal(ddd_event_set_metadata(ev, "aggregate-id", id, NULL), CORE_OK);
    assert_int_equal(ddd_event_list_push(&made, &ev, NULL), CORE_OK);
    return made.items[made.n - 1];
}

/* ---- 1. the subscriptions -------------------------------------------------------------------- */

static void the_catalog_handlers_are_subscribed(void **state)
{
    (void)state;
    require_registration();
    static const char *const product_events[] = {
        "stores.ProductAdded", "stores.ProductRebranded", "stores.ProductPriceIncreased",
        "stores.ProductPriceDecreased", "stores.ProductRemoved"};
    for (size_t i = 0; i < sizeof product_events / sizeof product_events[0]; i++) {
        size_t n = ddd_dispatcher_count(events, product_events[i]);
        if (n != 1) {
            print_error("error: handlers subscribed to %s: wanted 1, got %zu\n", product_events[i],
                        n);
            fail();
        }
    }
    /* the store events are the MallHandlers' only */
    assert_int_equal(ddd_dispatcher_count(events, "stores.StoreCreated"), 1);
    assert_int_equal(ddd_dispatcher_count(events, "stores.StoreRebranded"), 1);
    /* the label names the handlers in every error */
    rm.fail_op = "catalog.add_product";
    expect(stores_product_create(&product, "p-1", "s-1", "Lava Lamp", "", "", 1, err), CORE_OK,
           NULL);
    expect(publish(&product.agg, err), CORE_ERR_IO,
           "stores.CatalogHandlers on stores.ProductAdded: db down");
}

/* ---- 2. one event, one write ------------------------------------------------------------------
 */

static void product_added_inserts_a_row(void **state)
{
    (void)state;
    require_registration();
    lava_lamp_published();
    expect_row("p-1", "s-1|Lava Lamp|groovy|LL-1|9.5000");
    expect_writes(1);
    assert_int_equal(rm.stores.len, 0); /* the mall is not touched */
    /* a second product, description and sku left out */
    struct stores_product other = STORES_PRODUCT_INIT;
    core_err e = CORE_ERR_INIT;
    core_status st = stores_product_create(&other, "p-2", "s-1", "Candle", NULL, NULL, 3, &e);
    if (st == CORE_OK)
        st = publish(&other.agg, &e);
    stores_product_release(&other);
    check_result(st, &e, CORE_OK, NULL, "create and publish p-2", __FILE__, __LINE__);
    expect_row("p-2", "s-1|Candle|||3.0000");
    expect_writes(2);
}

static void rebrand_updates_name_and_description(void **state)
{
    (void)state;
    require_registration();
    lava_lamp_published();
    expect_ok(stores_product_rebrand(&product, "Lava Lamp XL", "groovier", err));
    expect_ok(publish(&product.agg, err));
    expect_row("p-1", "s-1|Lava Lamp XL|groovier|LL-1|9.5000");
    expect_writes(2);
}

static void price_changes_move_the_price_by_their_delta(void **state)
{
    (void)state;
    require_registration();
    lava_lamp_published();
    expect_ok(stores_product_increase_price(&product, 12.25, err)); /* delta +2.75 */
    expect_ok(publish(&product.agg, err));
    expect_row("p-1", "s-1|Lava Lamp|groovy|LL-1|12.2500");
    expect_ok(stores_product_decrease_price(&product, 11, err)); /* delta -1.25 */
    expect_ok(publish(&product.agg, err));
    expect_row("p-1", "s-1|Lava Lamp|groovy|LL-1|11.0000");
    /* several events in one publish, in order */
    expect_ok(stores_product_increase_price(&product, 20, err));
    expect_ok(stores_product_decrease_price(&product, 15.5, err));
    expect_ok(stores_product_rebrand(&product, "Lamp", "plain", err));
    expect_ok(publish(&product.agg, err));
    expect_row("p-1", "s-1|Lamp|plain|LL-1|15.5000");
    expect_writes(6);
}

static void removed_product_leaves_the_catalog(void **state)
{
    (void)state;
    require_registration();
    lava_lamp_published();
    expect_ok(stores_product_remove(&product, err));
    expect_ok(publish(&product.agg, err));
    expect_row("p-1", "(no row)");
    expect_writes(2);
}

/* ---- 3. failures ----------------------------------------------------------------------------- */

static void port_failures_come_back_unchanged(void **state)
{
    (void)state;
    require_registration();
    lava_lamp_published();
    static const struct {
        const char *op, *msg;
    } cases[] = {
        {"catalog.rebrand", "stores.CatalogHandlers on stores.ProductRebranded: db down"},
        {"catalog.update_price", "stores.CatalogHandlers on stores.ProductPriceIncreased: db down"},
        {"catalog.remove", "stores.CatalogHandlers on stores.ProductRemoved: db down"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rm.fail_op = cases[i].op;
        if (i == 0)
            expect_ok(stores_product_rebrand(&product, "Other", "", err));
        else if (i == 1)
            expect_ok(stores_product_increase_price(&product, 99, err));
        else
            expect_ok(stores_product_remove(&product, err));
        expect(publish(&product.agg, err), CORE_ERR_IO, cases[i].msg);
    }
    rm.fail_op = NULL;
    expect_row("p-1", "s-1|Lava Lamp|groovy|LL-1|9.5000"); /* the read model is behind */
    expect_writes(1);

    /* a product the catalog has no row for: the port's NOT_FOUND */
    struct stores_product ghost = STORES_PRODUCT_INIT;
    core_err e = CORE_ERR_INIT;
    core_status st = stores_product_create(&ghost, "p-9", "s-1", "Ghost", "", "", 1, &e);
    if (st == CORE_OK) {
        ddd_aggregate_clear_events(
            &ghost.agg.base); /* its ProductAdded never reached the catalog */
        if ((st = stores_product_rebrand(&ghost, "Still a ghost", "", &e)) == CORE_OK)
            st = publish(&ghost.agg, &e);
    }
    stores_product_release(&ghost);
    check_result(st, &e, CORE_ERR_NOT_FOUND,
                 "stores.CatalogHandlers on stores.ProductRebranded: product p-9 not found",
                 "publish a ProductRebranded of p-9", __FILE__, __LINE__);
}

static void events_the_handlers_cannot_use_are_refused(void **state)
{
    (void)state;
    require_registration();
    ddd_event *bad[3];
    /* no "aggregate-id": whose row would it be? */
    bad[0] =
        event_of("stores.ProductAdded", pb_new(&stores__domain__product_added__descriptor), NULL);
    /* a payload of another type */
    bad[1] = event_of("stores.ProductRebranded", pb_new(&stores__domain__store_created__descriptor),
                      "p-1");
    bad[2] = event_of("stores.ProductRemoved", pb_new(&stores__domain__product_added__descriptor),
                      "p-1");
    for (size_t i = 0; i < 3; i++) {
        char want[128];
        snprintf(want, sizeof want, "stores.CatalogHandlers on %s: ", ddd_event_name(bad[i]));
        core_err e = CORE_ERR_INIT;
        core_status st = ddd_dispatcher_publish(events, &bad[i], 1, &e);
        if (st != CORE_ERR_INTERNAL || strncmp(e.msg, want, strlen(want)) != 0) {
            print_error("error: publish %s (%s): wanted CORE_ERR_INTERNAL \"%s...\", got %s "
                        "\"%s\"\n",
                        ddd_event_name(bad[i]), i == 0 ? "no aggregate-id" : "wrong payload", want,
                        core_status_name(st), st ? e.msg : "");
            fail();
        }
    }
    expect_writes(0);
}

/* ---- 4. the whole module: commands store events, queries read the catalog -------------------- */

static void in_memory_module(void)
{
    assert_int_equal(es_registry_new(&mod.types, NULL), CORE_OK);
    assert_int_equal(stores_register_types(mod.types, NULL), CORE_OK);
    assert_int_equal(es_mem_store_new(&mod.store, mod.types, NULL), CORE_OK);
    struct ddd_publisher publisher = ddd_dispatcher_publisher(events);
    assert_int_equal(es_repo_new(&mod.stores, &stores_store_type, mod.store, &publisher, 3, NULL),
                     CORE_OK);
    assert_int_equal(
        es_repo_new(&mod.products, &stores_product_type, mod.store, &publisher, 3, NULL), CORE_OK);
    mod.app.stores = mod.stores;
    mod.app.products = mod.products;
    mod.app.mall = mall;
    mod.app.catalog = catalog;
}

/* The names of the stored events of product id, space separated. */
static const char *stored_events(const char *id)
{
    static char buf[512];
    struct ddd_event_list stream = DDD_EVENT_LIST_INIT;
    size_t used = 0;
    buf[0] = '\0';
    assert_int_equal(es_store_load(mod.store, "stores.Product", id, 0, &stream, NULL), CORE_OK);
    for (size_t i = 0; i < stream.n && used < sizeof buf; i++) {
        int n = snprintf(buf + used, sizeof buf - used, "%s%s", i ? " " : "",
                         ddd_event_name(stream.items[i]));
        if (n < 0)
            break;
        used += (size_t)n;
    }
    ddd_event_list_release(&stream);
    return buf;
}

static void commands_write_events_and_queries_read_the_catalog(void **state)
{
    (void)state;
    require_registration();
    in_memory_module();
    struct stores_app *app = &mod.app;
    struct stores_add_product lamp = {"p-1", "s-1", "Lava Lamp", "groovy", "LL-1", 9.5};
    struct stores_add_product candle = {"p-2", "s-1", "Candle", "", "C-1", 2};
    expect_ok(stores_app_create_store(app, "s-1", "Lamp Land", "East Wing", err));
    expect_ok(stores_app_add_product(app, &lamp, err));
    expect_ok(stores_app_add_product(app, &candle, err));
    expect_ok(stores_app_rebrand_product(app, "p-1", "Lava Lamp XL", "groovier", err));
    expect_ok(stores_app_increase_product_price(app, "p-1", 12.25, err));

    /* GetProduct and GetCatalog read the catalog your handlers wrote */
    expect_ok(stores_app_get_product(app, "p-1", &row, err));
    assert_string_equal(row.name, "Lava Lamp XL");
    assert_string_equal(row.description, "groovier");
    assert_true(row.price == 12.25);
    expect_ok(stores_app_get_catalog(app, "s-1", &list, err));
    assert_int_equal(list.len, 2);
    assert_string_equal(list.items[0].name, "Candle");
    assert_string_equal(list.items[1].name, "Lava Lamp XL");

    /* removed: the row goes and the query answers 404; the events stay */
    expect_ok(stores_app_remove_product(app, "p-1", err));
    stores_catalog_product_release(&row);
    expect(stores_app_get_product(app, "p-1", &row, err), CORE_ERR_NOT_FOUND,
           "product p-1 not found");
    assert_string_equal(stored_events("p-1"), "stores.ProductAdded stores.ProductRebranded "
                                              "stores.ProductPriceIncreased stores.ProductRemoved");
}

static void a_failing_projection_leaves_the_catalog_behind_the_events(void **state)
{
    (void)state;
    require_registration();
    in_memory_module();
    struct stores_add_product lamp = {"p-1", "s-1", "Lava Lamp", "groovy", "LL-1", 9.5};
    expect_ok(stores_app_create_store(&mod.app, "s-1", "Lamp Land", "East Wing", err));
    expect_ok(stores_app_add_product(&mod.app, &lamp, err));
    /* the dual write: the event is stored, THEN the projection fails */
    rm.fail_op = "catalog.rebrand";
    expect(stores_app_rebrand_product(&mod.app, "p-1", "Lava Lamp XL", "", err), CORE_ERR_IO,
           "stores.CatalogHandlers on stores.ProductRebranded: db down");
    rm.fail_op = NULL;
    assert_string_equal(stored_events("p-1"), "stores.ProductAdded stores.ProductRebranded");
    expect_row("p-1", "s-1|Lava Lamp|groovy|LL-1|9.5000"); /* the catalog is behind */
}

static void registration_reports_running_out_of_memory(void **state)
{
    (void)state;
    require_registration();
    int failures = 0;
    for (long n = 0; n < 40; n++) {
        ddd_dispatcher *d = NULL;
        core_err e = CORE_ERR_INIT;
        assert_int_equal(ddd_dispatcher_new(&d, NULL), CORE_OK);
        core_alloc_fail_after(n);
        core_status st = stores_register_catalog_handlers(d, &catalog, &e);
        core_alloc_fail_after(-1);
        ddd_dispatcher_free(d);
        if (st == CORE_OK)
            break;
        failures++;
        check_result(st, &e, CORE_ERR_NOMEM, NULL,
                     "stores_register_catalog_handlers with allocation failure", __FILE__,
                     __LINE__);
    }
    if (failures == 0) {
        print_error("error: stores_register_catalog_handlers never ran out of memory: does it "
                    "subscribe anything?\n");
        fail();
    }
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(the_catalog_handlers_are_subscribed),
        T(product_added_inserts_a_row),
        T(rebrand_updates_name_and_description),
        T(price_changes_move_the_price_by_their_delta),
        T(removed_product_leaves_the_catalog),
        T(port_failures_come_back_unchanged),
        T(events_the_handlers_cannot_use_are_refused),
        T(commands_write_events_and_queries_read_the_catalog),
        T(a_failing_projection_leaves_the_catalog_behind_the_events),
        T(registration_reports_running_out_of_memory),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
