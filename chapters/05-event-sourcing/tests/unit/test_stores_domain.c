/* test_stores_domain.c -- unit tests of stores/domain.h: Store and Product rules, lifecycles,
 * read-model rows and lists, allocation failures. Chapter 04: the domain events each rule
 * records (names, payload fields, metadata), and that a failing rule records none. Chapter 05:
 * the aggregates are event-sourced -- each rule RAISES its event (recorded as pending and applied
 * at once: versions, "aggregate-version"), the apply functions rebuild the same state from the
 * events alone, unknown events and payloads are refused, snapshots round-trip, the new rules
 * (rebrand, price changes) and the type registrations. No I/O. Every test checks that it leaks
 * nothing. */
#include <math.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core.h"
#include "pb.h"
#include "stores/domain.h"
#include "stores/domain_events.pb-c.h"
#include "stores/snapshots.pb-c.h"

static long live_at_start;

static int leak_setup(void **state)
{
    (void)state;
    live_at_start = core_alloc_live();
    return 0;
}

static int leak_teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    assert_int_equal(core_alloc_live(), live_at_start);
    return 0;
}

/* An id of n 'a' characters (n < 128). */
static const char *id_of_len(size_t n)
{
    static char buf[128];
    memset(buf, 'a', n);
    buf[n] = '\0';
    return buf;
}

static void assert_store_empty(const struct stores_store *s)
{
    assert_string_equal(s->agg.base.id, "");
    assert_int_equal(s->agg.base.events.n, 0);
    assert_int_equal(es_aggregate_version(&s->agg), 0);
    assert_null(s->name);
    assert_null(s->location);
    assert_false(s->participating);
}

static void assert_product_empty(const struct stores_product *p)
{
    assert_string_equal(p->agg.base.id, "");
    assert_int_equal(p->agg.base.events.n, 0);
    assert_string_equal(p->store_id, "");
    assert_null(p->name);
    assert_null(p->description);
    assert_null(p->sku);
    assert_false(p->removed);
}

/* Checks that agg has n pending events, the last named name with a payload of type desc, stamped
 * with aggregate (name), id and version n; returns that payload (borrowed). */
static const void *last_event(const struct es_aggregate *agg, size_t n, const char *name,
                              const char *aggregate, const char *id,
                              const ProtobufCMessageDescriptor *desc)
{
    char version[24];
    assert_int_equal(agg->base.events.n, n);
    assert_int_equal(es_aggregate_pending_version(agg), n);
    const ddd_event *ev = agg->base.events.items[n - 1];
    assert_string_equal(ddd_event_name(ev), name);
    assert_string_equal(ddd_event_metadata(ev, "aggregate-name"), aggregate);
    assert_string_equal(ddd_event_metadata(ev, "aggregate-id"), id);
    snprintf(version, sizeof version, "%zu", n);
    assert_string_equal(ddd_event_metadata(ev, "aggregate-version"), version);
    assert_true(ddd_event_payload_is(ev, desc));
    return ddd_event_payload(ev);
}

/* ---- Store -------------------------------------------------------------------------------- */

static void create_store_raises_store_created(void **state)
{
    (void)state;
    struct stores_store s = STORES_STORE_INIT;
    char name[] = "Waldorf Books";
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_store_create(&s, "s-1", name, "West Upper Level", &err), CORE_OK);
    name[0] = 'X'; /* the entity holds a copy */
    assert_string_equal(s.agg.base.id, "s-1");
    assert_string_equal(s.name, "Waldorf Books");
    assert_string_equal(s.location, "West Upper Level");
    assert_false(s.participating);
    assert_int_equal(err.status, CORE_OK);             /* untouched on success */
    assert_int_equal(es_aggregate_version(&s.agg), 0); /* nothing stored yet */
    const Stores__Domain__StoreCreated *m =
        last_event(&s.agg, 1, "stores.StoreCreated", "stores.Store", "s-1",
                   &stores__domain__store_created__descriptor);
    assert_string_equal(m->name, "Waldorf Books");
    assert_string_equal(m->location, "West Upper Level");
    stores_store_release(&s); /* frees the pending event: the leak check says so */
    assert_store_empty(&s);
    assert_string_equal(s.agg.base.name, STORES_STORE_AGGREGATE);
    stores_store_release(NULL); /* no-op */
}

static void expect_create_store_error(const char *id, const char *name, const char *location,
                                      const char *msg)
{
    struct stores_store s = STORES_STORE_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_store_create(&s, id, name, location, &err), CORE_ERR_INVALID);
    assert_int_equal(err.status, CORE_ERR_INVALID);
    assert_string_equal(err.msg, msg);
    assert_store_empty(&s);
}

static void create_store_rules(void **state)
{
    (void)state;
    expect_create_store_error("s-1", "", "Level 1", "the store name cannot be blank");
    expect_create_store_error("s-1", "  \t", "Level 1", "the store name cannot be blank");
    expect_create_store_error("s-1", NULL, "Level 1", "the store name cannot be blank");
    expect_create_store_error("s-1", "Books", "", "the store location cannot be blank");
    expect_create_store_error("s-1", "Books", NULL, "the store location cannot be blank");
    /* the name is checked before the location */
    expect_create_store_error("s-1", "", "", "the store name cannot be blank");
    expect_create_store_error("", "Books", "Level 1", "the store id cannot be blank");
    expect_create_store_error(id_of_len(STORES_ID_MAX + 1), "Books", "Level 1",
                              "the store id is too long");

    struct stores_store s = STORES_STORE_INIT;
    assert_int_equal(stores_store_create(&s, id_of_len(STORES_ID_MAX), "Books", "Level 1", NULL),
                     CORE_OK);
    assert_int_equal(strlen(s.agg.base.id), STORES_ID_MAX);
    stores_store_release(&s);
}

static void participation_rules_and_events(void **state)
{
    (void)state;
    struct stores_store s = STORES_STORE_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_store_create(&s, "s-1", "Books", "Level 1", &err), CORE_OK);

    assert_int_equal(stores_store_disable_participation(&s, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the store is already not participating");
    assert_false(s.participating);
    assert_int_equal(s.agg.base.events.n, 1); /* a broken rule raises nothing */

    assert_int_equal(stores_store_enable_participation(&s, &err), CORE_OK);
    assert_true(s.participating);
    const Stores__Domain__StoreParticipationToggled *m =
        last_event(&s.agg, 2, "stores.StoreParticipationEnabled", "stores.Store", "s-1",
                   &stores__domain__store_participation_toggled__descriptor);
    assert_true(m->participating);
    assert_int_equal(stores_store_enable_participation(&s, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the store is already participating");
    assert_true(s.participating);
    assert_int_equal(s.agg.base.events.n, 2);

    assert_int_equal(stores_store_disable_participation(&s, &err), CORE_OK);
    assert_false(s.participating);
    m = last_event(&s.agg, 3, "stores.StoreParticipationDisabled", "stores.Store", "s-1",
                   &stores__domain__store_participation_toggled__descriptor);
    assert_false(m->participating);
    stores_store_release(&s);
}

static void rebrand_store(void **state)
{
    (void)state;
    struct stores_store s = STORES_STORE_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_store_create(&s, "s-1", "Books", "Level 1", &err), CORE_OK);
    assert_int_equal(stores_store_rebrand(&s, "", &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the store name cannot be blank");
    assert_int_equal(stores_store_rebrand(&s, " \n", &err), CORE_ERR_INVALID);
    assert_int_equal(stores_store_rebrand(&s, NULL, &err), CORE_ERR_INVALID);
    assert_string_equal(s.name, "Books");
    assert_int_equal(s.agg.base.events.n, 1);

    assert_int_equal(stores_store_rebrand(&s, "Books & More", &err), CORE_OK);
    assert_string_equal(s.name, "Books & More");
    assert_string_equal(s.location, "Level 1");
    const Stores__Domain__StoreRebranded *m =
        last_event(&s.agg, 2, "stores.StoreRebranded", "stores.Store", "s-1",
                   &stores__domain__store_rebranded__descriptor);
    assert_string_equal(m->name, "Books & More");
    stores_store_release(&s);
}

/* Applies the pending events of from, in order, to the empty store to (as a load does). */
static void replay_store(const struct stores_store *from, struct stores_store *to)
{
    core_err err = CORE_ERR_INIT;
    for (size_t i = 0; i < from->agg.base.events.n; i++)
        assert_int_equal(stores_store_type.apply(to, from->agg.base.events.items[i], &err),
                         CORE_OK);
}

static void assert_same_store(const struct stores_store *a, const struct stores_store *b)
{
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->location, b->location);
    assert_int_equal(a->participating, b->participating);
}

static void store_events_rebuild_the_store(void **state)
{
    (void)state;
    struct stores_store s = STORES_STORE_INIT, copy = STORES_STORE_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_store_create(&s, "s-1", "Books", "Level 1", &err), CORE_OK);
    replay_store(&s, &copy);
    assert_same_store(&s, &copy);
    stores_store_release(&copy);

    assert_int_equal(stores_store_enable_participation(&s, &err), CORE_OK);
    assert_int_equal(stores_store_rebrand(&s, "Books & More", &err), CORE_OK);
    replay_store(&s, &copy);
    assert_same_store(&s, &copy);
    assert_true(copy.participating);
    assert_string_equal(copy.name, "Books & More");
    assert_int_equal(copy.agg.base.events.n, 0); /* applying records nothing */
    stores_store_release(&copy);

    assert_int_equal(stores_store_disable_participation(&s, &err), CORE_OK);
    replay_store(&s, &copy);
    assert_false(copy.participating);
    stores_store_release(&copy);
    stores_store_release(&s);
}

static void store_snapshot_round_trip(void **state)
{
    (void)state;
    struct stores_store s = STORES_STORE_INIT, copy = STORES_STORE_INIT;
    ProtobufCMessage *snap = NULL;
    core_err err = CORE_ERR_INIT;
    assert_string_equal(stores_store_type.name, "stores.Store");
    assert_string_equal(stores_store_type.snapshot_name, "stores.StoreV1");
    assert_int_equal(stores_store_create(&s, "s-1", "Books", "Level 1", &err), CORE_OK);
    assert_int_equal(stores_store_enable_participation(&s, &err), CORE_OK);
    assert_int_equal(stores_store_type.to_snapshot(&s, &snap, &err), CORE_OK);
    assert_ptr_equal(snap->descriptor, &stores__domain__store_v1__descriptor);
    const Stores__Domain__StoreV1 *m = (const void *)snap;
    assert_string_equal(m->name, "Books");
    assert_string_equal(m->location, "Level 1");
    assert_true(m->participating);
    assert_int_equal(stores_store_type.from_snapshot(&copy, snap, &err), CORE_OK);
    assert_same_store(&s, &copy);
    /* a snapshot then more events: as a load after a snapshot */
    assert_int_equal(stores_store_rebrand(&s, "Renamed", &err), CORE_OK);
    assert_int_equal(stores_store_type.apply(&copy, s.agg.base.events.items[2], &err), CORE_OK);
    assert_same_store(&s, &copy);
    pb_free(snap);

    /* a snapshot of another type is refused, the entity unchanged */
    snap = pb_new(&stores__domain__product_v1__descriptor);
    assert_int_equal(stores_store_type.from_snapshot(&copy, snap, &err), CORE_ERR_INTERNAL);
    assert_string_equal(copy.name, "Renamed");
    pb_free(snap);
    stores_store_release(&copy);
    stores_store_release(&s);
}

/* apply refuses an event it does not know, or a known name with another payload type, and
 * leaves the entity as it was. */
static void store_apply_refuses_unknown_events(void **state)
{
    (void)state;
    struct stores_store s = STORES_STORE_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_store_create(&s, "s-1", "Books", "Level 1", &err), CORE_OK);
    ProtobufCMessage *payload = pb_new(&stores__domain__store_rebranded__descriptor);
    ddd_event *ev = NULL;
    assert_int_equal(ddd_event_new(&ev, "stores.StoreCreated", &payload, &err), CORE_OK);
    assert_int_equal(stores_store_type.apply(&s, ev, &err), CORE_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "stores.StoreCreated"));
    ddd_event_free(ev);
    payload = pb_new(&stores__domain__product_removed__descriptor);
    assert_int_equal(ddd_event_new(&ev, "stores.ProductRemoved", &payload, &err), CORE_OK);
    assert_int_equal(stores_store_type.apply(&s, ev, &err), CORE_ERR_INTERNAL);
    ddd_event_free(ev);
    assert_int_equal(ddd_event_new(&ev, "stores.StoreRebranded", &payload, &err),
                     CORE_OK); /* no payload */
    assert_int_equal(stores_store_type.apply(&s, ev, &err), CORE_ERR_INTERNAL);
    ddd_event_free(ev);
    assert_string_equal(s.name, "Books");
    assert_string_equal(s.location, "Level 1");
    stores_store_release(&s);
}

static void create_store_out_of_memory(void **state)
{
    (void)state;
    int failures = 0;
    for (long n = 0; n < 30; n++) { /* every allocation on the way may fail */
        struct stores_store s = STORES_STORE_INIT;
        core_err err = CORE_ERR_INIT;
        core_alloc_fail_after(n);
        core_status st = stores_store_create(&s, "s-1", "Books", "Level 1", &err);
        core_alloc_fail_after(-1);
        if (st) {
            failures++;
            assert_int_equal(st, CORE_ERR_NOMEM);
            assert_int_equal(err.status, CORE_ERR_NOMEM);
            assert_store_empty(&s);
        } else {
            assert_int_equal(s.agg.base.events.n, 1);
            core_alloc_fail_after(n);
            st = stores_store_enable_participation(&s, &err);
            core_alloc_fail_after(-1);
            failures += st != CORE_OK;
            assert_int_equal(s.participating, st == CORE_OK);
            size_t events = s.agg.base.events.n;
            assert_int_equal(events, st == CORE_OK ? 2 : 1);
            core_alloc_fail_after(n);
            st = stores_store_rebrand(&s, "New", &err);
            core_alloc_fail_after(-1);
            failures += st != CORE_OK;
            assert_string_equal(s.name, st == CORE_OK ? "New" : "Books");
            assert_int_equal(s.agg.base.events.n, events + (st == CORE_OK));
        }
        stores_store_release(&s);
    }
    assert_true(failures >= 10);
}

/* ---- Product ------------------------------------------------------------------------------ */

static void create_product_raises_product_added(void **state)
{
    (void)state;
    struct stores_product p = STORES_PRODUCT_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(
        stores_product_create(&p, "p-1", "s-1", "EDA with Golang", "a book", "1234", 49.99, &err),
        CORE_OK);
    assert_string_equal(p.agg.base.id, "p-1");
    assert_string_equal(p.store_id, "s-1");
    assert_string_equal(p.name, "EDA with Golang");
    assert_string_equal(p.description, "a book");
    assert_string_equal(p.sku, "1234");
    assert_true(p.price == 49.99);
    assert_false(p.removed);
    const Stores__Domain__ProductAdded *m =
        last_event(&p.agg, 1, "stores.ProductAdded", "stores.Product", "p-1",
                   &stores__domain__product_added__descriptor);
    assert_string_equal(m->store_id, "s-1");
    assert_string_equal(m->name, "EDA with Golang");
    assert_string_equal(m->description, "a book");
    assert_string_equal(m->sku, "1234");
    assert_true(m->price == 49.99);
    stores_product_release(&p);
    assert_product_empty(&p);

    /* description and sku are optional; a price of 0 is allowed, as is the column's maximum */
    assert_int_equal(stores_product_create(&p, "p-2", "s-1", "Free sample", NULL, NULL, 0.0, &err),
                     CORE_OK);
    assert_string_equal(p.description, "");
    assert_string_equal(p.sku, "");
    assert_true(p.price == 0.0);
    stores_product_release(&p);
    assert_int_equal(
        stores_product_create(&p, "p-3", "s-1", "Dear", "", "", STORES_PRICE_MAX, &err), CORE_OK);
    assert_true(p.price == STORES_PRICE_MAX);
    stores_product_release(&p);
    /* prices are kept to 4 decimals, in the entity and in the event */
    assert_int_equal(stores_product_create(&p, "p-4", "s-1", "Odd", "", "", 1.23456789, &err),
                     CORE_OK);
    assert_true(p.price == 1.2346);
    m = last_event(&p.agg, 1, "stores.ProductAdded", "stores.Product", "p-4",
                   &stores__domain__product_added__descriptor);
    assert_true(m->price == 1.2346);
    stores_product_release(&p);
    stores_product_release(NULL);
}

static void expect_create_product_error(const char *id, const char *store_id, const char *name,
                                        double price, const char *msg)
{
    struct stores_product p = STORES_PRODUCT_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_product_create(&p, id, store_id, name, "d", "sku", price, &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, msg);
    assert_product_empty(&p);
}

static void create_product_rules(void **state)
{
    (void)state;
    expect_create_product_error("p-1", "s-1", "", 1.0, "the product name cannot be blank");
    expect_create_product_error("p-1", "s-1", " ", 1.0, "the product name cannot be blank");
    expect_create_product_error("p-1", "s-1", NULL, 1.0, "the product name cannot be blank");
    expect_create_product_error("p-1", "s-1", "Wizard", -0.01,
                                "the product price cannot be negative");
    expect_create_product_error("p-1", "s-1", "Wizard", NAN,
                                "the product price cannot be negative");
    expect_create_product_error("p-1", "s-1", "Wizard", 100000.0,
                                "the product price cannot be over 99999.9999");
    expect_create_product_error("p-1", "s-1", "Wizard", INFINITY,
                                "the product price cannot be over 99999.9999");
    /* the name is checked before the price */
    expect_create_product_error("p-1", "s-1", "", -1.0, "the product name cannot be blank");
    expect_create_product_error("", "s-1", "Wizard", 1.0, "the product id cannot be blank");
    expect_create_product_error(id_of_len(STORES_ID_MAX + 1), "s-1", "Wizard", 1.0,
                                "the product id is too long");
    expect_create_product_error("p-1", "", "Wizard", 1.0, "the store id cannot be blank");
    expect_create_product_error("p-1", id_of_len(STORES_ID_MAX + 1), "Wizard", 1.0,
                                "the store id is too long");
}

static void rebrand_product(void **state)
{
    (void)state;
    struct stores_product p = STORES_PRODUCT_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(
        stores_product_create(&p, "p-1", "s-1", "Wizard", "a wizard", "W-1", 9.98, &err), CORE_OK);
    assert_int_equal(stores_product_rebrand(&p, " ", "anything", &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the product name cannot be blank");
    assert_int_equal(stores_product_rebrand(&p, NULL, NULL, &err), CORE_ERR_INVALID);
    assert_string_equal(p.name, "Wizard");
    assert_int_equal(p.agg.base.events.n, 1);

    assert_int_equal(
        stores_product_rebrand(&p, "Wizard w/ crystal", "a wizard with a crystal", &err), CORE_OK);
    assert_string_equal(p.name, "Wizard w/ crystal");
    assert_string_equal(p.description, "a wizard with a crystal");
    assert_string_equal(p.sku, "W-1");
    const Stores__Domain__ProductRebranded *m =
        last_event(&p.agg, 2, "stores.ProductRebranded", "stores.Product", "p-1",
                   &stores__domain__product_rebranded__descriptor);
    assert_string_equal(m->name, "Wizard w/ crystal");
    assert_string_equal(m->description, "a wizard with a crystal");
    /* the description may be dropped */
    assert_int_equal(stores_product_rebrand(&p, "Wizard", NULL, &err), CORE_OK);
    assert_string_equal(p.description, "");
    stores_product_release(&p);
}

static void price_changes(void **state)
{
    (void)state;
    struct stores_product p = STORES_PRODUCT_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_product_create(&p, "p-1", "s-1", "Lamp", "", "", 9.99, &err), CORE_OK);

    /* the new price is given; the event carries the difference, rounded to 4 decimals */
    assert_int_equal(stores_product_increase_price(&p, 12.49, &err), CORE_OK);
    assert_true(p.price == 12.49);
    const Stores__Domain__ProductPriceChanged *m =
        last_event(&p.agg, 2, "stores.ProductPriceIncreased", "stores.Product", "p-1",
                   &stores__domain__product_price_changed__descriptor);
    assert_true(m->delta == 2.5);
    assert_int_equal(stores_product_decrease_price(&p, 7.39, &err), CORE_OK);
    assert_true(p.price == 7.39);
    m = last_event(&p.agg, 3, "stores.ProductPriceDecreased", "stores.Product", "p-1",
                   &stores__domain__product_price_changed__descriptor);
    assert_true(m->delta == -5.1);
    /* the rules, each leaving the product as it was and raising nothing */
    /* the same price (to 4 decimals) would be an event with delta 0: refused both ways (the book
     * stores it) */
    const double same[] = {7.39, 7.39004, 7.38996};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        assert_int_equal(stores_product_increase_price(&p, same[i], &err), CORE_ERR_INVALID);
        assert_string_equal(err.msg, "the price change would be zero");
        assert_int_equal(stores_product_decrease_price(&p, same[i], &err), CORE_ERR_INVALID);
        assert_string_equal(err.msg, "the price change would be zero");
    }
    assert_int_equal(p.agg.base.events.n, 3);
    assert_int_equal(stores_product_increase_price(&p, 7.38, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the price change would be a decrease");
    assert_int_equal(stores_product_decrease_price(&p, 7.40, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the price change would be an increase");
    assert_int_equal(stores_product_decrease_price(&p, -1, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the product price cannot be negative");
    assert_int_equal(stores_product_increase_price(&p, NAN, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the product price cannot be negative");
    assert_int_equal(stores_product_increase_price(&p, 100000, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the product price cannot be over 99999.9999");
    assert_true(p.price == 7.39);
    assert_int_equal(p.agg.base.events.n, 3);

    /* many small changes do not drift: each one is rounded */
    for (int i = 0; i < 100; i++)
        assert_int_equal(stores_product_increase_price(&p, p.price + 0.1, &err), CORE_OK);
    assert_true(p.price == 17.39);
    stores_product_release(&p);
}

static void remove_product(void **state)
{
    (void)state;
    struct stores_product p = STORES_PRODUCT_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_product_create(&p, "p-2", "s-2", "Wizard", "", "", 9.98, &err),
                     CORE_OK);
    assert_int_equal(stores_product_remove(&p, &err), CORE_OK);
    assert_true(p.removed);
    assert_string_equal(p.name, "Wizard"); /* the fields stay */
    const Stores__Domain__ProductRemoved *r =
        last_event(&p.agg, 2, "stores.ProductRemoved", "stores.Product", "p-2",
                   &stores__domain__product_removed__descriptor);
    assert_string_equal(r->store_id, "s-2");
    stores_product_release(&p);
}

static void assert_same_product(const struct stores_product *a, const struct stores_product *b)
{
    assert_string_equal(a->store_id, b->store_id);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->description, b->description);
    assert_string_equal(a->sku, b->sku);
    assert_true(a->price == b->price);
    assert_int_equal(a->removed, b->removed);
}

static void product_events_rebuild_the_product(void **state)
{
    (void)state;
    struct stores_product p = STORES_PRODUCT_INIT, copy = STORES_PRODUCT_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(
        stores_product_create(&p, "p-1", "s-1", "Wizard", "a wizard", "W-1", 9.98, &err), CORE_OK);
    assert_int_equal(stores_product_rebrand(&p, "Wizard w/ crystal", "shiny", &err), CORE_OK);
    assert_int_equal(stores_product_increase_price(&p, 10.5, &err), CORE_OK);
    assert_int_equal(stores_product_decrease_price(&p, 10.25, &err), CORE_OK);
    for (size_t i = 0; i < p.agg.base.events.n; i++) {
        assert_int_equal(stores_product_type.apply(&copy, p.agg.base.events.items[i], &err),
                         CORE_OK);
        if (i == 0) { /* after ProductAdded alone */
            assert_string_equal(copy.name, "Wizard");
            assert_true(copy.price == 9.98);
        }
    }
    assert_same_product(&p, &copy);
    assert_true(copy.price == 10.25);
    assert_int_equal(stores_product_remove(&p, &err), CORE_OK);
    assert_int_equal(stores_product_type.apply(&copy, p.agg.base.events.items[4], &err), CORE_OK);
    assert_true(copy.removed);
    assert_same_product(&p, &copy);
    assert_int_equal(copy.agg.base.events.n, 0);

    /* unknown events are refused and change nothing */
    ProtobufCMessage *payload = pb_new(&stores__domain__store_created__descriptor);
    ddd_event *ev = NULL;
    assert_int_equal(ddd_event_new(&ev, "stores.ProductAdded", &payload, &err), CORE_OK);
    assert_int_equal(stores_product_type.apply(&copy, ev, &err), CORE_ERR_INTERNAL);
    ddd_event_free(ev);
    payload = pb_new(&stores__domain__product_price_changed__descriptor);
    assert_int_equal(ddd_event_new(&ev, "stores.ProductPriceTripled", &payload, &err), CORE_OK);
    assert_int_equal(stores_product_type.apply(&copy, ev, &err), CORE_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "stores.ProductPriceTripled"));
    ddd_event_free(ev);
    /* a ProductAdded whose store id no product can have */
    Stores__Domain__ProductAdded *bad = pb_new_of(stores__domain__product_added);
    assert_int_equal(pb_set_string(&bad->store_id, id_of_len(STORES_ID_MAX + 1), NULL), CORE_OK);
    payload = &bad->base;
    assert_int_equal(ddd_event_new(&ev, "stores.ProductAdded", &payload, &err), CORE_OK);
    assert_int_equal(stores_product_type.apply(&copy, ev, &err), CORE_ERR_INTERNAL);
    ddd_event_free(ev);
    assert_same_product(&p, &copy);
    stores_product_release(&copy);
    stores_product_release(&p);
}

static void product_snapshot_round_trip(void **state)
{
    (void)state;
    struct stores_product p = STORES_PRODUCT_INIT;
    core_err err = CORE_ERR_INIT;
    assert_string_equal(stores_product_type.name, "stores.Product");
    assert_string_equal(stores_product_type.snapshot_name, "stores.ProductV1");
    assert_int_equal(
        stores_product_create(&p, "p-1", "s-1", "Wizard", "a wizard", "W-1", 9.98, &err), CORE_OK);
    for (int removed = 0; removed < 2; removed++) {
        struct stores_product copy = STORES_PRODUCT_INIT;
        ProtobufCMessage *snap = NULL;
        if (removed)
            assert_int_equal(stores_product_remove(&p, &err), CORE_OK);
        assert_int_equal(stores_product_type.to_snapshot(&p, &snap, &err), CORE_OK);
        const Stores__Domain__ProductV1 *m = (const void *)snap;
        assert_ptr_equal(snap->descriptor, &stores__domain__product_v1__descriptor);
        assert_string_equal(m->store_id, "s-1");
        assert_string_equal(m->sku, "W-1");
        assert_int_equal(m->removed, removed);
        assert_int_equal(stores_product_type.from_snapshot(&copy, snap, &err), CORE_OK);
        assert_same_product(&p, &copy);
        pb_free(snap);
        snap = pb_new(&stores__domain__store_v1__descriptor);
        assert_int_equal(stores_product_type.from_snapshot(&copy, snap, &err), CORE_ERR_INTERNAL);
        assert_same_product(&p, &copy);
        pb_free(snap);
        stores_product_release(&copy);
    }
    stores_product_release(&p);
}

static void product_out_of_memory(void **state)
{
    (void)state;
    int failures = 0;
    for (long n = 0; n < 40; n++) {
        struct stores_product p = STORES_PRODUCT_INIT;
        core_err err = CORE_ERR_INIT;
        core_alloc_fail_after(n);
        core_status st = stores_product_create(&p, "p-1", "s-1", "Wizard", "d", "sku", 1.0, &err);
        core_alloc_fail_after(-1);
        if (st) {
            failures++;
            assert_int_equal(st, CORE_ERR_NOMEM);
            assert_product_empty(&p);
            continue;
        }
        core_alloc_fail_after(n);
        st = stores_product_rebrand(&p, "Witch", "e", &err);
        core_alloc_fail_after(-1);
        failures += st != CORE_OK;
        assert_string_equal(p.name, st ? "Wizard" : "Witch");
        assert_string_equal(p.description, st ? "d" : "e");
        size_t events = p.agg.base.events.n;
        core_alloc_fail_after(n);
        st = stores_product_increase_price(&p, 2.0, &err);
        core_alloc_fail_after(-1);
        failures += st != CORE_OK;
        assert_true(p.price == (st ? 1.0 : 2.0));
        assert_int_equal(p.agg.base.events.n, events + (st == CORE_OK));
        events = p.agg.base.events.n;
        core_alloc_fail_after(n);
        st = stores_product_remove(&p, &err);
        core_alloc_fail_after(-1);
        failures += st != CORE_OK;
        assert_int_equal(p.removed, st == CORE_OK);
        assert_int_equal(p.agg.base.events.n, events + (st == CORE_OK));
        stores_product_release(&p);
    }
    assert_true(failures >= 15);
}

/* ---- registrations -------------------------------------------------------------------------- */

static void register_types(void **state)
{
    (void)state;
    es_registry *reg = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(es_registry_new(&reg, &err), CORE_OK);
    assert_int_equal(stores_register_types(reg, &err), CORE_OK);
    static const struct {
        const char *name;
        const ProtobufCMessageDescriptor *desc;
    } want[] = {
        {"stores.StoreCreated", &stores__domain__store_created__descriptor},
        {"stores.StoreParticipationEnabled",
         &stores__domain__store_participation_toggled__descriptor},
        {"stores.StoreParticipationDisabled",
         &stores__domain__store_participation_toggled__descriptor},
        {"stores.StoreRebranded", &stores__domain__store_rebranded__descriptor},
        {"stores.StoreV1", &stores__domain__store_v1__descriptor},
        {"stores.ProductAdded", &stores__domain__product_added__descriptor},
        {"stores.ProductRebranded", &stores__domain__product_rebranded__descriptor},
        {"stores.ProductPriceIncreased", &stores__domain__product_price_changed__descriptor},
        {"stores.ProductPriceDecreased", &stores__domain__product_price_changed__descriptor},
        {"stores.ProductRemoved", &stores__domain__product_removed__descriptor},
        {"stores.ProductV1", &stores__domain__product_v1__descriptor},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_ptr_equal(es_registry_lookup(reg, want[i].name), want[i].desc);
    assert_null(es_registry_lookup(reg, "stores.ProductPriceChanged"));
    /* twice is a start-up bug */
    assert_int_equal(stores_register_types(reg, &err), CORE_ERR_CONFLICT);
    es_registry_free(reg);
}

/* ---- read-model rows and lists ----------------------------------------------------------------
 */

static void rows_fill_and_release(void **state)
{
    (void)state;
    struct stores_mall_store s = STORES_MALL_STORE_INIT;
    struct stores_catalog_product p = STORES_CATALOG_PRODUCT_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_mall_store_fill(&s, "s-9", "", NULL, true, &err), CORE_OK);
    assert_string_equal(s.id, "s-9");
    assert_string_equal(s.name, "");
    assert_string_equal(s.location, "");
    assert_true(s.participating);
    stores_mall_store_release(&s);
    assert_null(s.name);
    assert_int_equal(
        stores_mall_store_fill(&s, id_of_len(STORES_ID_MAX + 1), "a", "b", false, &err),
        CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the store id is too long");
    assert_null(s.name);
    stores_mall_store_release(NULL);

    assert_int_equal(stores_catalog_product_fill(&p, "p-1", "s-1", "", NULL, NULL, 5.0, &err),
                     CORE_OK);
    assert_string_equal(p.store_id, "s-1");
    assert_string_equal(p.description, "");
    assert_true(p.price == 5.0);
    stores_catalog_product_release(&p);
    assert_int_equal(
        stores_catalog_product_fill(&p, "p-1", id_of_len(STORES_ID_MAX + 1), "n", "", "", 1, &err),
        CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the store id is too long");
    assert_null(p.name);
    for (long n = 0; n < 3; n++) {
        core_alloc_fail_after(n);
        assert_int_equal(stores_catalog_product_fill(&p, "p-1", "s-1", "n", "d", "k", 1, &err),
                         CORE_ERR_NOMEM);
        core_alloc_fail_after(-1);
        assert_null(p.name);
        assert_null(p.description);
    }
    stores_catalog_product_release(NULL);
}

static void lists_take_ownership(void **state)
{
    (void)state;
    struct stores_mall_store_list l = STORES_MALL_STORE_LIST_INIT;
    struct stores_catalog_product_list pl = STORES_CATALOG_PRODUCT_LIST_INIT;
    core_err err = CORE_ERR_INIT;
    char id[32], name[32];
    for (int i = 0; i < 20; i++) { /* past the first growth */
        struct stores_mall_store s = STORES_MALL_STORE_INIT;
        snprintf(id, sizeof id, "s-%d", i);
        snprintf(name, sizeof name, "Store %d", i);
        assert_int_equal(stores_mall_store_fill(&s, id, name, "Level 1", false, &err), CORE_OK);
        assert_int_equal(stores_mall_store_list_add(&l, &s, &err), CORE_OK);
        assert_null(s.name); /* moved */
    }
    assert_int_equal(l.len, 20);
    assert_string_equal(l.items[0].name, "Store 0");
    assert_string_equal(l.items[19].id, "s-19");

    struct stores_catalog_product p = STORES_CATALOG_PRODUCT_INIT;
    assert_int_equal(stores_catalog_product_fill(&p, "p-1", "s-1", "Wizard", "", "", 9.98, &err),
                     CORE_OK);
    core_alloc_fail_after(0);
    assert_int_equal(stores_catalog_product_list_add(&pl, &p, &err), CORE_ERR_NOMEM);
    core_alloc_fail_after(-1);
    assert_int_equal(pl.len, 0);
    assert_string_equal(p.name, "Wizard"); /* still owned by p */
    assert_int_equal(stores_catalog_product_list_add(&pl, &p, &err), CORE_OK);
    assert_null(p.name);
    assert_string_equal(pl.items[0].name, "Wizard");

    stores_mall_store_list_release(&l);
    assert_int_equal(l.len, 0);
    assert_null(l.items);
    stores_catalog_product_list_release(&pl);
    stores_mall_store_list_release(NULL);
    stores_catalog_product_list_release(NULL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, leak_setup, leak_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(create_store_raises_store_created),
        T(create_store_rules),
        T(participation_rules_and_events),
        T(rebrand_store),
        T(store_events_rebuild_the_store),
        T(store_snapshot_round_trip),
        T(store_apply_refuses_unknown_events),
        T(create_store_out_of_memory),
        T(create_product_raises_product_added),
        T(create_product_rules),
        T(rebrand_product),
        T(price_changes),
        T(remove_product),
        T(product_events_rebuild_the_product),
        T(product_snapshot_round_trip),
        T(product_out_of_memory),
        T(register_types),
        T(rows_fill_and_release),
        T(lists_take_ownership),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
