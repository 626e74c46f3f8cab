/* test_product_events.c -- exercise 05.1: the Product as an event-sourced aggregate
 * (stores/domain.c: product_apply, product_to_snapshot, product_from_snapshot).
 *
 * The tests are the to-do list of the exercise, in the order the README suggests: each event's
 * apply (a rule raises its event, and raising applies it), the events apply cannot use, all or
 * nothing when memory runs out, then the repository: a product rebuilt from its stored events,
 * the snapshot round trip, and a load that starts from a snapshot. A failing check prints what it
 * wanted and what your code did.
 *
 * The repository tests use the real event-sourcing core (es.h) over the in-memory event store
 * (es_mem_store_new): the same registry, versions and snapshots as the PostgreSQL store, no
 * server. Every test also checks that it leaked nothing (core_alloc_live() is the same before and
 * after).
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
#include "stores/domain.h"
#include "stores/domain_events.pb-c.h"
#include "stores/snapshots.pb-c.h"

/* ---- checking results ------------------------------------------------------------------------ */

static void check_result(core_status got, const core_err *err, core_status want, const char *call,
                         const char *file, int line)
{
    if (got == want)
        return;
    print_error("error: in %s\n", call);
    if (want == CORE_OK)
        print_error("    wanted: CORE_OK (no error)\n");
    else
        print_error("    wanted: error %s\n", core_status_name(want));
    if (got == CORE_OK)
        print_error("    got:    CORE_OK\n");
    else
        print_error("    got:    error %s \"%s\"\n", core_status_name(got), err->msg);
    _fail(file, line);
}

/* expect_status(call, status): run call, which names its error argument `err` (a fresh core_err
 * for each call), and check the status it returns. */
#define expect_status(call, want)                                                                  \
    do {                                                                                           \
        core_err err_ = CORE_ERR_INIT;                                                             \
        core_err *err = &err_;                                                                     \
        core_status got_ = (call);                                                                 \
        check_result(got_, err, (want), #call, __FILE__, __LINE__);                                \
    } while (0)
#define expect_ok(call) expect_status(call, CORE_OK)

/* A product as one line: "store_id|name|description|sku|price|in the catalog" (or "|removed"). */
static const char *describe(const struct stores_product *p)
{
    static char buf[4][512];
    static int next;
    char *out = buf[next++ % 4];
    snprintf(out, sizeof buf[0], "%s|%s|%s|%s|%.4f|%s", p->store_id, p->name ? p->name : "(NULL)",
             p->description ? p->description : "(NULL)", p->sku ? p->sku : "(NULL)", p->price,
             p->removed ? "removed" : "in the catalog");
    return out;
}

/* Asserts that describe(p) is want; prints both when not. */
#define expect_product(what, p, want)                                                              \
    do {                                                                                           \
        const char *got_ = describe(p);                                                            \
        if (strcmp(got_, (want)) != 0) {                                                           \
            print_error("error: %s: wanted \"%s\", got \"%s\"\n", (what), (want), got_);           \
            _fail(__FILE__, __LINE__);                                                             \
        }                                                                                          \
    } while (0)

/* The names of the events p raised and has not saved yet, space separated. */
static const char *pending(const struct stores_product *p)
{
    static char buf[512];
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < p->agg.base.events.n && used < sizeof buf; i++) {
        int n = snprintf(buf + used, sizeof buf - used, "%s%s", i ? " " : "",
                         ddd_event_name(p->agg.base.events.items[i]));
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return buf;
}

#define expect_pending(p, want)                                                                    \
    do {                                                                                           \
        const char *got_ = pending(p);                                                             \
        if (strcmp(got_, (want)) != 0) {                                                           \
            print_error("error: the events the product raised: wanted \"%s\", got \"%s\"\n",       \
                        (want), got_);                                                             \
            _fail(__FILE__, __LINE__);                                                             \
        }                                                                                          \
    } while (0)

/* A price that must be exactly want (no rounding error left over). */
#define expect_price(p, want)                                                                      \
    do {                                                                                           \
        if ((p)->price != (want)) {                                                                \
            print_error("error: the price: wanted exactly %.17g, got %.17g (kept to 4 decimals "   \
                        "with money()?)\n",                                                        \
                        (double)(want), (p)->price);                                               \
            _fail(__FILE__, __LINE__);                                                             \
        }                                                                                          \
    } while (0)

/* What a test makes by hand; teardown frees it, also after a failed check. */
static struct ddd_event_list made; /* events */
static ProtobufCMessage *kept[16]; /* snapshot messages */
static size_t nkept;
static struct es_snapshot loaded_snap; /* a snapshot read back from the store */

static ProtobufCMessage *keep(ProtobufCMessage *m)
{
    assert_non_null(m);
    assert_true(nkept < sizeof kept / sizeof kept[0]);
    kept[nkept++] = m;
    return m;
}

/* An event named name with payload (ownership taken), made by hand as a store would load it.
 * Borrowed: the fixture owns it. */
static ddd_event *event_of(const char *name, ProtobufCMessage *payload)
{
    ddd_event *ev = NULL;
    core_err err = CORE_ERR_INIT;
    assert_non_null(payload);
    assert_int_equal(ddd_event_new(&ev, name, &payload, &err), CORE_OK);
    assert_int_equal(ddd_event_list_push(&made, &ev, &err), CORE_OK);
    return made.items[made.n - 1];
}

static ddd_event *product_added(const char *store_id, const char *name, const char *description,
                                const char *sku, double price)
{
    Stores__Domain__ProductAdded *m = pb_new_of(stores__domain__product_added);
    assert_non_null(m);
    assert_int_equal(pb_set_string(&m->store_id, store_id, NULL), CORE_OK);
    assert_int_equal(pb_set_string(&m->name, name, NULL), CORE_OK);
    assert_int_equal(pb_set_string(&m->description, description, NULL), CORE_OK);
    assert_int_equal(pb_set_string(&m->sku, sku, NULL), CORE_OK);
    m->price = price;
    return event_of("stores.ProductAdded", &m->base);
}

static ddd_event *product_rebranded(const char *name, const char *description)
{
    Stores__Domain__ProductRebranded *m = pb_new_of(stores__domain__product_rebranded);
    assert_non_null(m);
    assert_int_equal(pb_set_string(&m->name, name, NULL), CORE_OK);
    assert_int_equal(pb_set_string(&m->description, description, NULL), CORE_OK);
    return event_of("stores.ProductRebranded", &m->base);
}

/* A ProductV1 made by hand (not by your product_to_snapshot). Borrowed: the fixture owns it. */
static ProtobufCMessage *product_v1(const char *store_id, const char *name, double price,
                                    bool removed)
{
    Stores__Domain__ProductV1 *m = pb_new_of(stores__domain__product_v1);
    assert_non_null(m);
    assert_int_equal(pb_set_string(&m->store_id, store_id, NULL), CORE_OK);
    assert_int_equal(pb_set_string(&m->name, name, NULL), CORE_OK);
    assert_int_equal(pb_set_string(&m->description, "from a snapshot", NULL), CORE_OK);
    assert_int_equal(pb_set_string(&m->sku, "SNAP-1", NULL), CORE_OK);
    m->price = price;
    m->removed = removed;
    return keep(&m->base);
}

/* An id of n 'a' characters (n < 128). */
static const char *id_of_len(size_t n)
{
    static char buf[128];
    memset(buf, 'a', n);
    buf[n] = '\0';
    return buf;
}

/* ---- fixtures -------------------------------------------------------------------------------- */

static long live_before;
static struct stores_product product, copy; /* teardown releases them, also after a failure */
static es_registry *types;
static es_store *store; /* in memory */
static es_repo *repo;   /* never snapshots (ES_SNAPSHOT_EVERY 1000000) */
static es_repo *snappy; /* snapshots every 3 versions, as the chapter's default */

static int setup(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    live_before = core_alloc_live();
    stores_product_init(&product);
    stores_product_init(&copy);
    assert_int_equal(es_registry_new(&types, NULL), CORE_OK);
    assert_int_equal(stores_register_types(types, NULL), CORE_OK);
    assert_int_equal(es_mem_store_new(&store, types, NULL), CORE_OK);
    assert_int_equal(es_repo_new(&repo, &stores_product_type, store, NULL, 1000000, NULL), CORE_OK);
    assert_int_equal(es_repo_new(&snappy, &stores_product_type, store, NULL, 3, NULL), CORE_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    stores_product_release(&product);
    stores_product_release(&copy);
    ddd_event_list_release(&made);
    for (; nkept > 0; nkept--)
        pb_free(kept[nkept - 1]);
    es_snapshot_release(&loaded_snap);
    es_repo_free(snappy);
    es_repo_free(repo);
    es_store_free(store);
    es_registry_free(types);
    assert_int_equal(core_alloc_live(), live_before);
    return 0;
}

#define LAVA "s-1|Lava Lamp|groovy|LL-1|9.9900|in the catalog"

/* product = the new product p-1 "Lava Lamp" of store s-1 at 9.99. */
static void lava_lamp(void)
{
    expect_ok(
        stores_product_create(&product, "p-1", "s-1", "Lava Lamp", "groovy", "LL-1", 9.99, err));
    expect_product("the product after stores_product_create", &product, LAVA);
}

/* ---- 1. each event's apply ------------------------------------------------------------------- */

static void product_added_sets_every_field(void **state)
{
    (void)state;
    lava_lamp();
    expect_pending(&product, "stores.ProductAdded");
    /* raising IS applying: the raised event alone rebuilds the same product */
    expect_ok(stores_product_type.apply(&copy, product.agg.base.events.items[0], err));
    expect_product("an empty product after applying the ProductAdded", &copy, LAVA);
    /* description and sku may be missing */
    stores_product_release(&copy);
    expect_ok(stores_product_create(&copy, "p-2", "s-1", "Plain", NULL, NULL, 1, err));
    expect_product("a product created without description and sku", &copy,
                   "s-1|Plain|||1.0000|in the catalog");
}

static void rebrand_replaces_name_and_description(void **state)
{
    (void)state;
    lava_lamp();
    expect_ok(stores_product_rebrand(&product, "Lava Lamp XL", "groovier", err));
    expect_product("the product after a rebrand", &product,
                   "s-1|Lava Lamp XL|groovier|LL-1|9.9900|in the catalog");
    expect_ok(stores_product_rebrand(&product, "Lamp", NULL, err));
    expect_product("the product after a rebrand without description", &product,
                   "s-1|Lamp||LL-1|9.9900|in the catalog");
    expect_pending(&product, "stores.ProductAdded stores.ProductRebranded stores.ProductRebranded");
}

static void price_changes_add_their_delta(void **state)
{
    (void)state;
    expect_ok(stores_product_create(&product, "p-1", "s-1", "Penny sweets", "", "", 0.1, err));
    /* the event carries the delta 0.2; 0.1 + 0.2 is 0.30000000000000004 in binary floating
     * point: apply keeps prices to 4 decimals, like the catalog's decimal(9,4) */
    expect_ok(stores_product_increase_price(&product, 0.3, err));
    expect_price(&product, 0.3);
    expect_ok(stores_product_decrease_price(&product, 0.25, err));
    expect_price(&product, 0.25);
    expect_ok(stores_product_increase_price(&product, 12.49, err));
    expect_price(&product, 12.49);
    expect_product("the product after three price changes", &product,
                   "s-1|Penny sweets|||12.4900|in the catalog");
    expect_pending(&product, "stores.ProductAdded stores.ProductPriceIncreased "
                             "stores.ProductPriceDecreased stores.ProductPriceIncreased");
    /* a change to the same price is refused before anything is raised (a delta of 0 would be an
     * event that changes nothing; docs/ERRATA.md) */
    expect_status(stores_product_decrease_price(&product, 12.49, err), CORE_ERR_INVALID);
    expect_price(&product, 12.49);
}

static void remove_marks_the_product_removed(void **state)
{
    (void)state;
    lava_lamp();
    expect_ok(stores_product_remove(&product, err));
    expect_product("the product after stores_product_remove (its fields stay)", &product,
                   "s-1|Lava Lamp|groovy|LL-1|9.9900|removed");
    expect_pending(&product, "stores.ProductAdded stores.ProductRemoved");
}

/* ---- 2. what apply refuses ------------------------------------------------------------------- */

static void events_apply_cannot_use_change_nothing(void **state)
{
    (void)state;
    lava_lamp();
    ddd_event *bad[4];
    /* a Store's event */
    Stores__Domain__StoreCreated *created = pb_new_of(stores__domain__store_created);
    bad[0] = event_of("stores.StoreCreated", &created->base);
    /* a product event name with a payload of another type */
    created = pb_new_of(stores__domain__store_created);
    bad[1] = event_of("stores.ProductAdded", &created->base);
    /* a name no product event has */
    Stores__Domain__ProductPriceChanged *changed = pb_new_of(stores__domain__product_price_changed);
    bad[2] = event_of("stores.ProductPriceTripled", &changed->base);
    /* a ProductAdded whose store id no product can have */
    bad[3] = product_added(id_of_len(STORES_ID_MAX + 1), "Other", "", "", 1);
    for (size_t i = 0; i < 4; i++) {
        expect_status(stores_product_type.apply(&product, bad[i], err), CORE_ERR_INTERNAL);
        expect_product("the product after an event apply refused", &product, LAVA);
    }
    expect_pending(&product, "stores.ProductAdded"); /* apply itself raises nothing */
}

static void apply_is_all_or_nothing_when_memory_runs_out(void **state)
{
    (void)state;
    /* Each allocation of apply fails in turn, until apply succeeds. A failure must be
     * CORE_ERR_NOMEM, leave the product exactly as it was and leak nothing (the teardown
     * counts). */
    ddd_event *added = product_added("s-1", "Lava Lamp", "groovy", "LL-1", 9.99);
    int failures = 0;
    for (long n = 0; n < 20; n++) {
        core_err e = CORE_ERR_INIT;
        core_alloc_fail_after(n);
        core_status st = stores_product_type.apply(&product, added, &e);
        core_alloc_fail_after(-1);
        if (st == CORE_OK)
            break;
        failures++;
        check_result(st, &e, CORE_ERR_NOMEM, "ProductAdded with allocation failure", __FILE__,
                     __LINE__);
        expect_product("an empty product after a ProductAdded that ran out of memory", &product,
                       "|(NULL)|(NULL)|(NULL)|0.0000|in the catalog");
    }
    expect_product("the product after the ProductAdded", &product, LAVA);

    ddd_event *rebranded = product_rebranded("Lava Lamp XL", "groovier");
    for (long n = 0; n < 20; n++) {
        core_err e = CORE_ERR_INIT;
        core_alloc_fail_after(n);
        core_status st = stores_product_type.apply(&product, rebranded, &e);
        core_alloc_fail_after(-1);
        if (st == CORE_OK)
            break;
        failures++;
        check_result(st, &e, CORE_ERR_NOMEM, "ProductRebranded with allocation failure", __FILE__,
                     __LINE__);
        expect_product("the product after a ProductRebranded that ran out of memory", &product,
                       LAVA);
    }
    expect_product("the product after the ProductRebranded", &product,
                   "s-1|Lava Lamp XL|groovier|LL-1|9.9900|in the catalog");
    if (failures < 2) {
        print_error("error: apply copied the strings without allocating? (%d failures)\n",
                    failures);
        fail();
    }
}

/* ---- 3. the repository: events, snapshots -----------------------------------------------------
 */

static void the_events_rebuild_the_product(void **state)
{
    (void)state;
    lava_lamp();
    expect_ok(stores_product_rebrand(&product, "Lava Lamp XL", "groovier", err));
    expect_ok(stores_product_increase_price(&product, 12.5, err));
    expect_ok(stores_product_decrease_price(&product, 11.25, err));
    expect_ok(es_repo_save(repo, &product, err)); /* versions 1..4 */
    expect_pending(&product, "");

    /* a fresh, empty product: es_repo_load applies the four stored events, in order */
    expect_ok(es_repo_load(repo, "p-1", &copy, err));
    expect_product("the product loaded from its four events", &copy,
                   "s-1|Lava Lamp XL|groovier|LL-1|11.2500|in the catalog");
    assert_string_equal(copy.agg.base.id, "p-1");
    assert_int_equal(es_aggregate_version(&copy.agg), 4);
    expect_pending(&copy, ""); /* loaded events are not raised again */

    /* a change of the loaded product is stored as version 5, and loads again */
    expect_ok(stores_product_remove(&copy, err));
    expect_ok(es_repo_save(repo, &copy, err));
    stores_product_release(&copy);
    expect_ok(es_repo_load(repo, "p-1", &copy, err));
    expect_product("the product loaded from its five events", &copy,
                   "s-1|Lava Lamp XL|groovier|LL-1|11.2500|removed");
    assert_int_equal(es_aggregate_version(&copy.agg), 5);
}

static void snapshot_round_trip(void **state)
{
    (void)state;
    lava_lamp();
    expect_ok(stores_product_rebrand(&product, "Lava Lamp XL", "groovier", err));
    for (int removed = 0; removed < 2; removed++) {
        ProtobufCMessage *snap = NULL;
        if (removed)
            expect_ok(stores_product_remove(&product, err));
        expect_ok(stores_product_type.to_snapshot(&product, &snap, err));
        keep(snap);
        if (snap->descriptor != &stores__domain__product_v1__descriptor) {
            print_error("error: the snapshot: wanted a stores.domain.ProductV1, got %s\n",
                        snap->descriptor->name);
            fail();
        }
        const Stores__Domain__ProductV1 *m = (const void *)snap;
        assert_string_equal(m->store_id, "s-1");
        assert_string_equal(m->name, "Lava Lamp XL");
        assert_string_equal(m->description, "groovier");
        assert_string_equal(m->sku, "LL-1");
        assert_true(m->price == 9.99);
        assert_int_equal(m->removed, removed);

        /* back: the same state in a fresh product */
        stores_product_release(&copy);
        expect_ok(stores_product_type.from_snapshot(&copy, snap, err));
        expect_product("a product after from_snapshot(to_snapshot(product))", &copy,
                       describe(&product));
    }

    /* what from_snapshot refuses: another message type, a store id no product can have */
    ProtobufCMessage *bad = keep(pb_new(&stores__domain__store_v1__descriptor));
    expect_status(stores_product_type.from_snapshot(&copy, bad, err), CORE_ERR_INTERNAL);
    bad = product_v1(id_of_len(STORES_ID_MAX + 1), "Other", 1, false);
    expect_status(stores_product_type.from_snapshot(&copy, bad, err), CORE_ERR_INTERNAL);
    expect_product("the product after a snapshot it refused", &copy, describe(&product));

    /* out of memory: to_snapshot gives NOMEM and leaks nothing; from_snapshot also changes
     * nothing */
    ProtobufCMessage *good = product_v1("s-2", "Snapped", 2.5, false);
    int failures = 0;
    for (long n = 0; n < 30; n++) {
        core_err e = CORE_ERR_INIT;
        ProtobufCMessage *snap = NULL;
        core_alloc_fail_after(n);
        core_status st = stores_product_type.to_snapshot(&product, &snap, &e);
        core_alloc_fail_after(-1);
        if (st == CORE_OK) {
            pb_free(snap);
            break;
        }
        failures++;
        if (snap) {
            pb_free(snap);
            print_error("error: to_snapshot failed (%s) but set *out: free what you made and "
                        "leave *out alone\n",
                        e.msg);
            fail();
        }
        check_result(st, &e, CORE_ERR_NOMEM, "to_snapshot with allocation failure", __FILE__,
                     __LINE__);
    }
    for (long n = 0; n < 30; n++) {
        core_err e = CORE_ERR_INIT;
        core_alloc_fail_after(n);
        core_status st = stores_product_type.from_snapshot(&copy, good, &e);
        core_alloc_fail_after(-1);
        if (st == CORE_OK)
            break;
        failures++;
        check_result(st, &e, CORE_ERR_NOMEM, "from_snapshot with allocation failure", __FILE__,
                     __LINE__);
        expect_product("the product after a from_snapshot that ran out of memory", &copy,
                       describe(&product));
    }
    expect_product("the product from a hand-made snapshot", &copy,
                   "s-2|Snapped|from a snapshot|SNAP-1|2.5000|in the catalog");
    assert_true(failures >= 2);
}

static void a_load_starts_from_the_snapshot(void **state)
{
    (void)state;
    /* three events in one save: version 0 -> 3 crosses the snapshot interval (3) */
    lava_lamp();
    expect_ok(stores_product_rebrand(&product, "Lava Lamp XL", "groovier", err));
    expect_ok(stores_product_increase_price(&product, 12.5, err));
    expect_ok(es_repo_save(snappy, &product, err));

    struct es_snapshot *snap = &loaded_snap;
    core_err e = CORE_ERR_INIT;
    core_status st = es_store_load_snapshot(store, "stores.Product", "p-1", snap, &e);
    if (st) {
        print_error("error: no snapshot of p-1 after the save of version 3 (%s); a failing "
                    "to_snapshot is only logged by es_repo_save\n",
                    e.msg);
        fail();
    }
    assert_int_equal(snap->version, 3);
    assert_string_equal(snap->name, "stores.ProductV1");
    const Stores__Domain__ProductV1 *m = (const void *)snap->data;
    assert_string_equal(m->name, "Lava Lamp XL");
    assert_true(m->price == 12.5);
    es_snapshot_release(snap);

    /* Doctor the snapshot: a load that shows the doctored name did start from it. */
    ProtobufCMessage *doctored = product_v1("s-1", "From the snapshot", 12.5, false);
    expect_ok(es_store_save_snapshot(store, "stores.Product", "p-1", 3, "stores.ProductV1",
                                     doctored, err));
    expect_ok(es_repo_load(snappy, "p-1", &copy, err));
    expect_product("the product loaded from the doctored snapshot at version 3", &copy,
                   "s-1|From the snapshot|from a snapshot|SNAP-1|12.5000|in the catalog");
    assert_int_equal(es_aggregate_version(&copy.agg), 3);

    /* version 4 on top: the snapshot, then the one later event */
    expect_ok(stores_product_decrease_price(&copy, 10, err));
    expect_ok(es_repo_save(snappy, &copy, err));
    stores_product_release(&copy);
    expect_ok(es_repo_load(snappy, "p-1", &copy, err));
    expect_product("the product loaded from the snapshot plus event 4", &copy,
                   "s-1|From the snapshot|from a snapshot|SNAP-1|10.0000|in the catalog");
    assert_int_equal(es_aggregate_version(&copy.agg), 4);

    /* removed survives a snapshot: versions 5 and 6, snapshot at 6 */
    expect_ok(stores_product_rebrand(&copy, "Last name", "", err));
    expect_ok(stores_product_remove(&copy, err));
    expect_ok(es_repo_save(snappy, &copy, err));
    stores_product_release(&copy);
    expect_ok(es_store_load_snapshot(store, "stores.Product", "p-1", snap, err));
    assert_int_equal(snap->version, 6);
    assert_true(((const Stores__Domain__ProductV1 *)snap->data)->removed);
    es_snapshot_release(snap);
    expect_ok(es_repo_load(snappy, "p-1", &copy, err));
    expect_product("the removed product loaded from its snapshot at version 6", &copy,
                   "s-1|Last name||SNAP-1|10.0000|removed");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(product_added_sets_every_field),         T(rebrand_replaces_name_and_description),
        T(price_changes_add_their_delta),          T(remove_marks_the_product_removed),
        T(events_apply_cannot_use_change_nothing), T(apply_is_all_or_nothing_when_memory_runs_out),
        T(the_events_rebuild_the_product),         T(snapshot_round_trip),
        T(a_load_starts_from_the_snapshot),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
