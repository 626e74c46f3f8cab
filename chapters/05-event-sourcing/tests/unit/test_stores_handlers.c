/* test_stores_handlers.c -- unit tests of stores/handlers.h (chapter 05): the MallHandlers and
 * CatalogHandlers that project the stores events into the read models. A real ddd_dispatcher
 * with both handler sets subscribed, in-memory fake read models (tests/support/stores_fakes.h),
 * and events raised by the real domain (stores/domain.h) then published by hand: each event
 * reaches the right handler, which changes the right row with the event's data; a failing read
 * model, a missing row, an event without its aggregate id or with a payload of another type are
 * reported (with the dispatcher's "<label> on <event>: " prefix). No servers. Every test checks it
 * leaks nothing. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core.h"
#include "pb.h"
#include "stores/domain_events.pb-c.h"
#include "stores/handlers.h"
#include "stores_fakes.h"

static ddd_dispatcher *events;
static struct stores_fake_read_models rm;
static struct stores_mall_repo mall;
static struct stores_catalog_repo catalog;
static long live_at_start;

static int setup(void **state)
{
    (void)state;
    live_at_start = core_alloc_live();
    stores_fake_init(&rm);
    stores_fake_mall(&mall, &rm);
    stores_fake_catalog(&catalog, &rm);
    assert_int_equal(ddd_dispatcher_new(&events, NULL), CORE_OK);
    assert_int_equal(stores_register_mall_handlers(events, &mall, NULL), CORE_OK);
    assert_int_equal(stores_register_catalog_handlers(events, &catalog, NULL), CORE_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    ddd_dispatcher_free(events);
    stores_fake_release(&rm);
    assert_int_equal(core_alloc_live(), live_at_start);
    return 0;
}

/* Publishes the pending events of agg (as es_repo_save does after storing them) and drops them. */
static core_status publish(struct es_aggregate *agg, core_err *err)
{
    core_status st =
        ddd_dispatcher_publish(events, agg->base.events.items, agg->base.events.n, err);
    ddd_aggregate_clear_events(&agg->base);
    return st;
}

static void each_event_has_one_handler(void **state)
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
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_int_equal(ddd_dispatcher_count(events, names[i]), 1);
    assert_int_equal(ddd_dispatcher_count(events, "stores.StoreRemoved"), 0);
}

static void mall_follows_the_store_events(void **state)
{
    (void)state;
    struct stores_store s = STORES_STORE_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_store_create(&s, "s-1", "Waldorf Books", "West Upper Level", &err),
                     CORE_OK);
    assert_int_equal(publish(&s.agg, &err), CORE_OK);
    struct stores_mall_store *row = stores_fake_store(&rm, "s-1");
    assert_non_null(row);
    assert_string_equal(row->name, "Waldorf Books");
    assert_string_equal(row->location, "West Upper Level");
    assert_false(row->participating);

    assert_int_equal(stores_store_enable_participation(&s, &err), CORE_OK);
    assert_int_equal(publish(&s.agg, &err), CORE_OK);
    assert_true(stores_fake_store(&rm, "s-1")->participating);

    /* several events in one publish, in order */
    assert_int_equal(stores_store_rebrand(&s, "Waldorf Books & Games", &err), CORE_OK);
    assert_int_equal(stores_store_disable_participation(&s, &err), CORE_OK);
    assert_int_equal(publish(&s.agg, &err), CORE_OK);
    row = stores_fake_store(&rm, "s-1");
    assert_string_equal(row->name, "Waldorf Books & Games");
    assert_string_equal(row->location, "West Upper Level");
    assert_false(row->participating);
    assert_int_equal(rm.writes, 4);
    assert_int_equal(rm.products.len, 0); /* the catalog handlers ignore store events */
    stores_store_release(&s);
}

static void catalog_follows_the_product_events(void **state)
{
    (void)state;
    struct stores_product p = STORES_PRODUCT_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(
        stores_product_create(&p, "p-1", "s-1", "Lava Lamp", "groovy", "LL-1", 9.99, &err),
        CORE_OK);
    assert_int_equal(publish(&p.agg, &err), CORE_OK);
    const struct stores_catalog_product *row = stores_fake_product(&rm, "p-1");
    assert_non_null(row);
    assert_string_equal(row->store_id, "s-1");
    assert_string_equal(row->name, "Lava Lamp");
    assert_string_equal(row->description, "groovy");
    assert_string_equal(row->sku, "LL-1");
    assert_true(row->price == 9.99);

    assert_int_equal(stores_product_rebrand(&p, "Lava Lamp XL", "groovier", &err), CORE_OK);
    assert_int_equal(stores_product_increase_price(&p, 14.99, &err), CORE_OK);
    assert_int_equal(publish(&p.agg, &err), CORE_OK);
    row = stores_fake_product(&rm, "p-1");
    assert_string_equal(row->name, "Lava Lamp XL");
    assert_string_equal(row->description, "groovier");
    assert_true(fabs(row->price - 14.99) < 1e-9);

    assert_int_equal(stores_product_decrease_price(&p, 12.0, &err), CORE_OK);
    assert_int_equal(publish(&p.agg, &err), CORE_OK);
    assert_true(fabs(stores_fake_product(&rm, "p-1")->price - 12.0) < 1e-9);

    assert_int_equal(stores_product_remove(&p, &err), CORE_OK);
    assert_int_equal(publish(&p.agg, &err), CORE_OK);
    assert_null(stores_fake_product(&rm, "p-1"));
    assert_int_equal(rm.writes, 5);
    assert_int_equal(rm.stores.len, 0);
    stores_product_release(&p);
}

/* A read model's failure comes back through the dispatcher, prefixed with the handlers' label. */
static void read_model_failures_are_reported(void **state)
{
    (void)state;
    struct stores_store s = STORES_STORE_INIT;
    struct stores_product p = STORES_PRODUCT_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_store_create(&s, "s-1", "Books", "Level 1", &err), CORE_OK);
    rm.fail_op = "mall.add_store";
    assert_int_equal(publish(&s.agg, &err), CORE_ERR_IO);
    assert_string_equal(err.msg, "stores.MallHandlers on stores.StoreCreated: db down");
    assert_null(stores_fake_store(&rm, "s-1"));

    /* a row the read model does not have (it fell behind): NOT_FOUND, not silence */
    rm.fail_op = NULL;
    assert_int_equal(stores_store_rebrand(&s, "Renamed", &err), CORE_OK);
    assert_int_equal(publish(&s.agg, &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg,
                        "stores.MallHandlers on stores.StoreRebranded: store s-1 not found");
    assert_int_equal(stores_store_enable_participation(&s, &err), CORE_OK);
    assert_int_equal(publish(&s.agg, &err), CORE_ERR_NOT_FOUND);

    assert_int_equal(stores_product_create(&p, "p-1", "s-1", "Lamp", "", "", 1.0, &err), CORE_OK);
    assert_int_equal(publish(&p.agg, &err), CORE_OK);
    static const struct {
        const char *op, *msg;
    } fails[] = {
        {"catalog.rebrand", "stores.CatalogHandlers on stores.ProductRebranded: db down"},
        {"catalog.update_price", "stores.CatalogHandlers on stores.ProductPriceIncreased: db down"},
        {"catalog.remove", "stores.CatalogHandlers on stores.ProductRemoved: db down"},
    };
    for (size_t i = 0; i < sizeof fails / sizeof fails[0]; i++) {
        rm.fail_op = fails[i].op;
        if (i == 0)
            assert_int_equal(stores_product_rebrand(&p, "Lamp 2", "", &err), CORE_OK);
        else if (i == 1)
            assert_int_equal(stores_product_increase_price(&p, 2.0, &err), CORE_OK);
        else
            assert_int_equal(stores_product_remove(&p, &err), CORE_OK);
        assert_int_equal(publish(&p.agg, &err), CORE_ERR_IO);
        assert_string_equal(err.msg, fails[i].msg);
    }
    const struct stores_catalog_product *row = stores_fake_product(&rm, "p-1");
    assert_string_equal(row->name, "Lamp");
    assert_true(row->price == 1.0);
    stores_product_release(&p);
    stores_store_release(&s);
}

/* Events the domain never raises: a payload of another type, or no aggregate id. */
static void malformed_events_are_internal_errors(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    ddd_event *ev = NULL;
    ProtobufCMessage *payload = pb_new(&stores__domain__product_added__descriptor);
    assert_int_equal(ddd_event_new(&ev, STORES_STORE_CREATED, &payload, &err), CORE_OK);
    assert_int_equal(ddd_event_set_metadata(ev, "aggregate-id", "s-1", &err), CORE_OK);
    assert_int_equal(ddd_dispatcher_publish(events, &ev, 1, &err), CORE_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "has no StoreCreated payload"));
    ddd_event_free(ev);

    payload = pb_new(&stores__domain__product_price_changed__descriptor);
    assert_int_equal(ddd_event_new(&ev, STORES_PRODUCT_PRICE_DECREASED, &payload, &err), CORE_OK);
    assert_int_equal(ddd_dispatcher_publish(events, &ev, 1, &err), CORE_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "stores.CatalogHandlers on stores.ProductPriceDecreased: "));
    assert_non_null(strstr(err.msg, "has no aggregate id"));
    ddd_event_free(ev);
    assert_int_equal(rm.writes, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(each_event_has_one_handler),           T(mall_follows_the_store_events),
        T(catalog_follows_the_product_events),   T(read_model_failures_are_reported),
        T(malformed_events_are_internal_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
