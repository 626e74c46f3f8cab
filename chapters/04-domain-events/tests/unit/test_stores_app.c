/* test_stores_app.c -- unit tests of stores/application.h with fake (in-memory) repository
 * ports: every command and query, success, not found, broken rules and failing repositories
 * (the error is passed up and nothing is saved). Chapter 04: the app publishes to a REAL
 * ddd_dispatcher with a recording handler on every stores event: events are published after the
 * save (or delete), never for a failed command, and a handler's failure is reported (with the
 * entity already saved). No servers. Every test checks it leaks nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core.h"
#include "stores/application.h"
#include "stores/domain_events.pb-c.h"

/* ---- the fake repositories ---------------------------------------------------------------- */

/* One in-memory "database" behind all three ports. fail_op names the port operation that fails
 * with CORE_ERR_IO "db down" ("store.save", "store.update", "store.find", "store.find_all",
 * "participating.find_all", "product.add", "product.remove", "product.find", "product.catalog"). */
struct fake_db {
    struct stores_store_list stores;
    struct stores_product_list products;
    const char *fail_op;
    int writes; /* successful save/update/add/remove calls */
};

static struct fake_db db;
static struct stores_app app;
static long live_at_start;

static core_status maybe_fail(const char *op, core_err *err)
{
    if (db.fail_op && strcmp(db.fail_op, op) == 0)
        return core_err_set(err, CORE_ERR_IO, "db down");
    return CORE_OK;
}

static struct stores_store *find_store(const char *id)
{
    for (size_t i = 0; i < db.stores.len; i++)
        if (strcmp(db.stores.items[i].id, id) == 0)
            return &db.stores.items[i];
    return NULL;
}

static size_t find_product(const char *id)
{
    for (size_t i = 0; i < db.products.len; i++)
        if (strcmp(db.products.items[i].id, id) == 0)
            return i;
    return SIZE_MAX;
}

static core_status copy_store(const struct stores_store *from, struct stores_store *to, core_err *err)
{
    return stores_store_restore(to, from->id, from->name, from->location, from->participating, err);
}

static core_status copy_product(const struct stores_product *from, struct stores_product *to, core_err *err)
{
    return stores_product_restore(to, from->id, from->store_id, from->name, from->description, from->sku,
                                  from->price, err);
}

static core_status store_save(void *self, const struct stores_store *s, core_err *err)
{
    struct stores_store copy = STORES_STORE_INIT;
    core_status st;
    assert_ptr_equal(self, &db);
    if ((st = maybe_fail("store.save", err)))
        return st;
    if (find_store(s->id))
        return core_err_set(err, CORE_ERR_CONFLICT, "store %s exists", s->id);
    if (!(st = copy_store(s, &copy, err)) && !(st = stores_store_list_add(&db.stores, &copy, err)))
        db.writes++;
    stores_store_release(&copy);
    return st;
}

static core_status store_update(void *self, const struct stores_store *s, core_err *err)
{
    core_status st;
    struct stores_store *row;
    if ((st = maybe_fail("store.update", err)))
        return st;
    if (!(row = find_store(s->id)))
        return core_err_set(err, CORE_ERR_NOT_FOUND, "store %s not found", s->id);
    stores_store_release(row);
    if (!(st = copy_store(s, row, err)))
        db.writes++;
    return st;
}

static core_status store_find(void *self, const char *id, struct stores_store *out, core_err *err)
{
    core_status st;
    const struct stores_store *row;
    if ((st = maybe_fail("store.find", err)))
        return st;
    if (!(row = find_store(id)))
        return core_err_set(err, CORE_ERR_NOT_FOUND, "store %s not found", id);
    return copy_store(row, out, err);
}

/* Appends the stores (all, or the participating ones) to out. A failure after the first store
 * leaves out partly filled: the application must clean that up. */
static core_status list_stores(const char *op, bool only_participating, struct stores_store_list *out,
                               core_err *err)
{
    core_status st = CORE_OK;
    for (size_t i = 0; i < db.stores.len && !st; i++) {
        struct stores_store copy = STORES_STORE_INIT;
        if (only_participating && !db.stores.items[i].participating)
            continue;
        if (i > 0 && (st = maybe_fail(op, err)))
            break;
        if (!(st = copy_store(&db.stores.items[i], &copy, err)))
            st = stores_store_list_add(out, &copy, err);
        stores_store_release(&copy);
    }
    if (!st)
        st = maybe_fail(op, err);
    return st;
}

static core_status store_find_all(void *self, struct stores_store_list *out, core_err *err)
{
    return list_stores("store.find_all", false, out, err);
}

static core_status participating_find_all(void *self, struct stores_store_list *out, core_err *err)
{
    return list_stores("participating.find_all", true, out, err);
}

static core_status product_add(void *self, const struct stores_product *p, core_err *err)
{
    struct stores_product copy = STORES_PRODUCT_INIT;
    core_status st;
    if ((st = maybe_fail("product.add", err)))
        return st;
    if (!(st = copy_product(p, &copy, err)) && !(st = stores_product_list_add(&db.products, &copy, err)))
        db.writes++;
    stores_product_release(&copy);
    return st;
}

static core_status product_remove(void *self, const char *id, core_err *err)
{
    core_status st;
    size_t i;
    if ((st = maybe_fail("product.remove", err)))
        return st;
    if ((i = find_product(id)) == SIZE_MAX)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "product %s not found", id);
    stores_product_release(&db.products.items[i]);
    db.products.items[i] = db.products.items[--db.products.len];
    db.writes++;
    return CORE_OK;
}

static core_status product_find(void *self, const char *id, struct stores_product *out, core_err *err)
{
    core_status st;
    size_t i;
    if ((st = maybe_fail("product.find", err)))
        return st;
    if ((i = find_product(id)) == SIZE_MAX)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "product %s not found", id);
    return copy_product(&db.products.items[i], out, err);
}

static core_status product_catalog(void *self, const char *store_id, struct stores_product_list *out,
                                   core_err *err)
{
    core_status st = CORE_OK;
    for (size_t i = 0; i < db.products.len && !st; i++) {
        struct stores_product copy = STORES_PRODUCT_INIT;
        if (strcmp(db.products.items[i].store_id, store_id) != 0)
            continue;
        if (!(st = copy_product(&db.products.items[i], &copy, err)))
            st = stores_product_list_add(out, &copy, err);
        stores_product_release(&copy);
    }
    if (!st)
        st = maybe_fail("product.catalog", err); /* fails after filling: the app must clean up */
    return st;
}

/* ---- a recording handler on every stores event ---------------------------------------------- */

#define REC_MAX 8

static struct {
    char names[REC_MAX][DDD_NAME_MAX + 1]; /* the events seen, in order */
    char ids[REC_MAX][STORES_ID_MAX + 1];
    char aggregates[REC_MAX][DDD_NAME_MAX + 1];
    bool stored[REC_MAX];        /* whether the entity's row existed when the handler ran */
    bool participating[REC_MAX]; /* a store's participating column then */
    char product_store[REC_MAX][STORES_ID_MAX + 1]; /* a ProductRemoved payload's store id */
    size_t n;
    const char *fail_on; /* an event name to refuse, or NULL */
} rec;

static ddd_dispatcher *events;

static core_status recorder(void *ud, const ddd_event *ev, core_err *err)
{
    (void)ud;
    const char *id = ddd_event_metadata(ev, "aggregate-id");
    const char *aggregate = ddd_event_metadata(ev, "aggregate-name");
    size_t i = rec.n++;
    assert_true(i < REC_MAX);
    core_strlcpy(rec.names[i], ddd_event_name(ev), sizeof rec.names[i]);
    core_strlcpy(rec.ids[i], id, sizeof rec.ids[i]);
    core_strlcpy(rec.aggregates[i], aggregate, sizeof rec.aggregates[i]);
    if (strcmp(aggregate, "stores.Store") == 0) {
        const struct stores_store *row = find_store(id);
        rec.stored[i] = row != NULL;
        rec.participating[i] = row && row->participating;
    } else {
        rec.stored[i] = find_product(id) != SIZE_MAX;
    }
    if (ddd_event_payload_is(ev, &stores__domain__product_removed__descriptor))
        core_strlcpy(rec.product_store[i], ((const Stores__Domain__ProductRemoved *)ddd_event_payload(ev))->store_id,
                     sizeof rec.product_store[i]);
    if (rec.fail_on && strcmp(rec.fail_on, ddd_event_name(ev)) == 0)
        return core_err_set(err, CORE_ERR_UNAVAILABLE, "recorder refused");
    return CORE_OK;
}

/* Puts a store straight into the fake database. */
static void seed_store(const char *id, const char *name, bool participating)
{
    struct stores_store s = STORES_STORE_INIT;
    assert_int_equal(stores_store_restore(&s, id, name, "Level 1", participating, NULL), CORE_OK);
    assert_int_equal(stores_store_list_add(&db.stores, &s, NULL), CORE_OK);
}

static void seed_product(const char *id, const char *store_id, const char *name, double price)
{
    struct stores_product p = STORES_PRODUCT_INIT;
    assert_int_equal(stores_product_restore(&p, id, store_id, name, "", "", price, NULL), CORE_OK);
    assert_int_equal(stores_product_list_add(&db.products, &p, NULL), CORE_OK);
}

static int setup(void **state)
{
    (void)state;
    live_at_start = core_alloc_live();
    memset(&db, 0, sizeof db);
    memset(&rec, 0, sizeof rec);
    assert_int_equal(ddd_dispatcher_new(&events, NULL), CORE_OK);
    static const char *const names[] = {STORES_STORE_CREATED, STORES_STORE_PARTICIPATION_ENABLED,
                                        STORES_STORE_PARTICIPATION_DISABLED, STORES_PRODUCT_ADDED,
                                        STORES_PRODUCT_REMOVED};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(ddd_dispatcher_subscribe(events, names[i], "recorder", recorder, NULL, NULL), CORE_OK);
    app.publisher = events;
    app.stores = (struct stores_store_repo){&db, store_save, store_update, store_find, store_find_all};
    app.participating = (struct stores_participating_repo){&db, participating_find_all};
    app.products = (struct stores_product_repo){&db, product_add, product_remove, product_find, product_catalog};
    seed_store("s-1", "Waldorf Books", false);
    seed_store("s-2", "Nic & Naks", true);
    seed_product("p-1", "s-1", "EDA with Golang", 49.99);
    seed_product("p-2", "s-2", "Wizard w/ crystal", 9.98);
    seed_product("p-3", "s-2", "Crystal ball", 19.5);
    db.writes = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    stores_store_list_release(&db.stores);
    stores_product_list_release(&db.products);
    ddd_dispatcher_free(events);
    assert_int_equal(core_alloc_live(), live_at_start);
    return 0;
}

static void expect_error(core_status got, const core_err *err, core_status want, const char *msg)
{
    assert_int_equal(got, want);
    assert_int_equal(err->status, want);
    assert_string_equal(err->msg, msg);
}

/* ---- CreateStore -------------------------------------------------------------------------- */

static void create_store_saves_a_new_store(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_app_create_store(&app, "s-3", "Store ABC", "The mall", &err), CORE_OK);
    const struct stores_store *s = find_store("s-3");
    assert_non_null(s);
    assert_string_equal(s->name, "Store ABC");
    assert_string_equal(s->location, "The mall");
    assert_false(s->participating);
    assert_int_equal(db.writes, 1);
}

static void create_store_rules_save_nothing(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    expect_error(stores_app_create_store(&app, "s-3", "", "The mall", &err), &err, CORE_ERR_INVALID,
                 "the store name cannot be blank");
    expect_error(stores_app_create_store(&app, "s-3", "Store ABC", " ", &err), &err, CORE_ERR_INVALID,
                 "the store location cannot be blank");
    assert_int_equal(db.writes, 0);
    assert_int_equal(db.stores.len, 2);
}

static void create_store_passes_repository_errors_up(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    db.fail_op = "store.save";
    expect_error(stores_app_create_store(&app, "s-3", "Store ABC", "The mall", &err), &err, CORE_ERR_IO, "db down");
    db.fail_op = NULL;
    expect_error(stores_app_create_store(&app, "s-1", "Again", "The mall", &err), &err, CORE_ERR_CONFLICT,
                 "store s-1 exists");
    assert_int_equal(db.writes, 0);
}

static void create_store_out_of_memory(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    core_alloc_fail_after(0);
    assert_int_equal(stores_app_create_store(&app, "s-3", "Store ABC", "The mall", &err), CORE_ERR_NOMEM);
    core_alloc_fail_after(-1);
    assert_null(find_store("s-3"));
}

/* ---- Enable/DisableParticipation ---------------------------------------------------------- */

static void participation_is_toggled_and_saved(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_app_enable_participation(&app, "s-1", &err), CORE_OK);
    assert_true(find_store("s-1")->participating);
    assert_int_equal(stores_app_disable_participation(&app, "s-2", &err), CORE_OK);
    assert_false(find_store("s-2")->participating);
    assert_int_equal(db.writes, 2);
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
    assert_int_equal(db.writes, 0);
}

static void participation_passes_repository_errors_up(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    db.fail_op = "store.find";
    expect_error(stores_app_enable_participation(&app, "s-1", &err), &err, CORE_ERR_IO, "db down");
    db.fail_op = "store.update";
    expect_error(stores_app_enable_participation(&app, "s-1", &err), &err, CORE_ERR_IO, "db down");
    expect_error(stores_app_disable_participation(&app, "s-2", &err), &err, CORE_ERR_IO, "db down");
    assert_false(find_store("s-1")->participating);
    assert_true(find_store("s-2")->participating);
    assert_int_equal(db.writes, 0);
}

/* ---- AddProduct / RemoveProduct ----------------------------------------------------------- */

static void add_product_saves_it(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_add_product cmd = {"p-9", "s-1", "Product ABC", "Product description", "productABC", 9.99};
    assert_int_equal(stores_app_add_product(&app, &cmd, &err), CORE_OK);
    size_t i = find_product("p-9");
    assert_true(i != SIZE_MAX);
    const struct stores_product *p = &db.products.items[i];
    assert_string_equal(p->store_id, "s-1");
    assert_string_equal(p->name, "Product ABC");
    assert_string_equal(p->description, "Product description");
    assert_string_equal(p->sku, "productABC");
    assert_true(p->price == 9.99);
    assert_int_equal(db.writes, 1);
}

static void add_product_to_unknown_store_is_not_found(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_add_product cmd = {"p-9", "nope", "Product ABC", "", "", 9.99};
    expect_error(stores_app_add_product(&app, &cmd, &err), &err, CORE_ERR_NOT_FOUND, "store nope not found");
    /* the store is looked up before the product's rules */
    struct stores_add_product bad = {"p-9", "nope", "", "", "", -1};
    expect_error(stores_app_add_product(&app, &bad, &err), &err, CORE_ERR_NOT_FOUND, "store nope not found");
    struct stores_add_product blank = {"p-9", "", "Product ABC", "", "", 1};
    expect_error(stores_app_add_product(&app, &blank, &err), &err, CORE_ERR_INVALID, "the store id cannot be blank");
    assert_int_equal(db.writes, 0);
    assert_int_equal(db.products.len, 3);
}

static void add_product_rules_save_nothing(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_add_product no_name = {"p-9", "s-1", " ", "", "", 1.0};
    expect_error(stores_app_add_product(&app, &no_name, &err), &err, CORE_ERR_INVALID,
                 "the product name cannot be blank");
    struct stores_add_product negative = {"p-9", "s-1", "Product ABC", "", "", -0.5};
    expect_error(stores_app_add_product(&app, &negative, &err), &err, CORE_ERR_INVALID,
                 "the product price cannot be negative");
    assert_int_equal(db.writes, 0);
    assert_int_equal(find_product("p-9"), SIZE_MAX);
}

static void add_product_passes_repository_errors_up(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_add_product cmd = {"p-9", "s-1", "Product ABC", "", "", 1.0};
    db.fail_op = "store.find";
    expect_error(stores_app_add_product(&app, &cmd, &err), &err, CORE_ERR_IO, "db down");
    db.fail_op = "product.add";
    expect_error(stores_app_add_product(&app, &cmd, &err), &err, CORE_ERR_IO, "db down");
    assert_int_equal(find_product("p-9"), SIZE_MAX);
    db.fail_op = NULL;
    for (long n = 0; n < 60; n++) { /* every allocation on the way may fail */
        core_alloc_fail_after(n);
        core_status st = stores_app_add_product(&app, &cmd, &err);
        core_alloc_fail_after(-1);
        if (st == CORE_OK) {
            assert_true(find_product("p-9") != SIZE_MAX);
            break;
        }
        assert_int_equal(st, CORE_ERR_NOMEM);
        if (db.writes == 1) { /* saved, then publishing ran out of memory: the dual write */
            assert_true(find_product("p-9") != SIZE_MAX);
            assert_int_equal(rec.n, 0);
            break;
        }
        assert_int_equal(find_product("p-9"), SIZE_MAX);
    }
    assert_true(find_product("p-9") != SIZE_MAX);
}

static void remove_product(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_app_remove_product(&app, "p-2", &err), CORE_OK);
    assert_int_equal(find_product("p-2"), SIZE_MAX);
    assert_int_equal(db.products.len, 2);
    expect_error(stores_app_remove_product(&app, "p-2", &err), &err, CORE_ERR_NOT_FOUND, "product p-2 not found");
    expect_error(stores_app_remove_product(&app, "", &err), &err, CORE_ERR_INVALID, "the product id cannot be blank");
    db.fail_op = "product.remove";
    expect_error(stores_app_remove_product(&app, "p-1", &err), &err, CORE_ERR_IO, "db down");
    assert_true(find_product("p-1") != SIZE_MAX);
    db.fail_op = "product.find"; /* chapter 04: the product is loaded first */
    expect_error(stores_app_remove_product(&app, "p-1", &err), &err, CORE_ERR_IO, "db down");
    assert_true(find_product("p-1") != SIZE_MAX);
}

/* ---- queries ------------------------------------------------------------------------------ */

static void get_store(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_store s = STORES_STORE_INIT;
    assert_int_equal(stores_app_get_store(&app, "s-2", &s, &err), CORE_OK);
    assert_string_equal(s.id, "s-2");
    assert_string_equal(s.name, "Nic & Naks");
    assert_true(s.participating);
    stores_store_release(&s);
    expect_error(stores_app_get_store(&app, "nope", &s, &err), &err, CORE_ERR_NOT_FOUND, "store nope not found");
    assert_null(s.name);
    expect_error(stores_app_get_store(&app, " ", &s, &err), &err, CORE_ERR_INVALID, "the store id cannot be blank");
    db.fail_op = "store.find";
    expect_error(stores_app_get_store(&app, "s-1", &s, &err), &err, CORE_ERR_IO, "db down");
    assert_null(s.name);
}

static void get_stores_and_participating_stores(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_store_list l = STORES_STORE_LIST_INIT;
    assert_int_equal(stores_app_get_stores(&app, &l, &err), CORE_OK);
    assert_int_equal(l.len, 2);
    assert_string_equal(l.items[0].id, "s-1");
    assert_string_equal(l.items[1].id, "s-2");
    stores_store_list_release(&l);

    assert_int_equal(stores_app_get_participating_stores(&app, &l, &err), CORE_OK);
    assert_int_equal(l.len, 1);
    assert_string_equal(l.items[0].name, "Nic & Naks");
    stores_store_list_release(&l);

    /* a repository failing halfway: the error is passed up and the list is left empty */
    db.fail_op = "store.find_all";
    expect_error(stores_app_get_stores(&app, &l, &err), &err, CORE_ERR_IO, "db down");
    assert_int_equal(l.len, 0);
    assert_null(l.items);
    db.fail_op = "participating.find_all";
    expect_error(stores_app_get_participating_stores(&app, &l, &err), &err, CORE_ERR_IO, "db down");
    assert_int_equal(l.len, 0);
}

static void get_catalog(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_product_list l = STORES_PRODUCT_LIST_INIT;
    assert_int_equal(stores_app_get_catalog(&app, "s-2", &l, &err), CORE_OK);
    assert_int_equal(l.len, 2);
    for (size_t i = 0; i < l.len; i++)
        assert_string_equal(l.items[i].store_id, "s-2");
    stores_product_list_release(&l);

    assert_int_equal(stores_app_create_store(&app, "s-3", "Empty", "Level 2", &err), CORE_OK);
    assert_int_equal(stores_app_get_catalog(&app, "s-3", &l, &err), CORE_OK);
    assert_int_equal(l.len, 0);

    expect_error(stores_app_get_catalog(&app, "nope", &l, &err), &err, CORE_ERR_NOT_FOUND, "store nope not found");
    expect_error(stores_app_get_catalog(&app, "", &l, &err), &err, CORE_ERR_INVALID, "the store id cannot be blank");
    db.fail_op = "product.catalog";
    expect_error(stores_app_get_catalog(&app, "s-2", &l, &err), &err, CORE_ERR_IO, "db down");
    assert_int_equal(l.len, 0);
    assert_null(l.items);
    db.fail_op = "store.find";
    expect_error(stores_app_get_catalog(&app, "s-2", &l, &err), &err, CORE_ERR_IO, "db down");
}

static void get_product(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_product p = STORES_PRODUCT_INIT;
    assert_int_equal(stores_app_get_product(&app, "p-2", &p, &err), CORE_OK);
    assert_string_equal(p.name, "Wizard w/ crystal");
    assert_string_equal(p.store_id, "s-2");
    assert_true(p.price == 9.98);
    stores_product_release(&p);
    expect_error(stores_app_get_product(&app, "nope", &p, &err), &err, CORE_ERR_NOT_FOUND, "product nope not found");
    expect_error(stores_app_get_product(&app, NULL, &p, &err), &err, CORE_ERR_INVALID,
                 "the product id cannot be blank");
    db.fail_op = "product.find";
    expect_error(stores_app_get_product(&app, "p-1", &p, &err), &err, CORE_ERR_IO, "db down");
    assert_null(p.name);
}

static void null_err_is_allowed(void **state)
{
    (void)state;
    assert_int_equal(stores_app_enable_participation(&app, "nope", NULL), CORE_ERR_NOT_FOUND);
    assert_int_equal(stores_app_create_store(&app, "s-3", "", "x", NULL), CORE_ERR_INVALID);
}

/* ---- publishing (chapter 04) ----------------------------------------------------------------- */

static void commands_publish_after_saving(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_add_product cmd = {"p-9", "s-3", "Product ABC", "", "", 1.0};
    assert_int_equal(stores_app_create_store(&app, "s-3", "Store ABC", "The mall", &err), CORE_OK);
    assert_int_equal(stores_app_enable_participation(&app, "s-3", &err), CORE_OK);
    assert_int_equal(stores_app_disable_participation(&app, "s-3", &err), CORE_OK);
    assert_int_equal(stores_app_add_product(&app, &cmd, &err), CORE_OK);
    assert_int_equal(stores_app_remove_product(&app, "p-9", &err), CORE_OK);
    struct stores_store s = STORES_STORE_INIT; /* queries publish nothing */
    assert_int_equal(stores_app_get_store(&app, "s-3", &s, &err), CORE_OK);
    stores_store_release(&s);
    static const struct {
        const char *name, *id, *aggregate;
        bool stored, participating;
    } want[] = {
        {"stores.StoreCreated", "s-3", "stores.Store", true, false},
        {"stores.StoreParticipationEnabled", "s-3", "stores.Store", true, true},
        {"stores.StoreParticipationDisabled", "s-3", "stores.Store", true, false},
        {"stores.ProductAdded", "p-9", "stores.Product", true, false},
        {"stores.ProductRemoved", "p-9", "stores.Product", false, false}, /* published after the delete */
    };
    assert_int_equal(rec.n, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(rec.names[i], want[i].name);
        assert_string_equal(rec.ids[i], want[i].id);
        assert_string_equal(rec.aggregates[i], want[i].aggregate);
        assert_int_equal(rec.stored[i], want[i].stored);
        assert_int_equal(rec.participating[i], want[i].participating);
    }
    assert_string_equal(rec.product_store[4], "s-3");
}

static void failed_commands_publish_nothing(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_add_product cmd = {"p-9", "s-1", "Product ABC", "", "", 1.0};
    struct stores_add_product bad = {"p-9", "s-1", "", "", "", 1.0};
    assert_int_equal(stores_app_create_store(&app, "s-3", "", "The mall", &err), CORE_ERR_INVALID);
    assert_int_equal(stores_app_enable_participation(&app, "s-2", &err), CORE_ERR_INVALID);
    assert_int_equal(stores_app_add_product(&app, &bad, &err), CORE_ERR_INVALID);
    assert_int_equal(stores_app_remove_product(&app, "nope", &err), CORE_ERR_NOT_FOUND);
    db.fail_op = "store.save";
    assert_int_equal(stores_app_create_store(&app, "s-3", "Store ABC", "The mall", &err), CORE_ERR_IO);
    db.fail_op = "store.update";
    assert_int_equal(stores_app_enable_participation(&app, "s-1", &err), CORE_ERR_IO);
    db.fail_op = "product.add";
    assert_int_equal(stores_app_add_product(&app, &cmd, &err), CORE_ERR_IO);
    db.fail_op = "product.remove";
    assert_int_equal(stores_app_remove_product(&app, "p-1", &err), CORE_ERR_IO);
    assert_int_equal(rec.n, 0);
}

/* A handler's failure is the command's failure, but the entity is already saved (chapter 09's
 * transactional outbox closes that gap). */
static void handler_failure_is_reported_after_saving(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    rec.fail_on = "stores.StoreCreated";
    expect_error(stores_app_create_store(&app, "s-3", "Store ABC", "The mall", &err), &err, CORE_ERR_UNAVAILABLE,
                 "recorder on stores.StoreCreated: recorder refused");
    assert_non_null(find_store("s-3"));
    rec.fail_on = "stores.ProductRemoved";
    expect_error(stores_app_remove_product(&app, "p-1", &err), &err, CORE_ERR_UNAVAILABLE,
                 "recorder on stores.ProductRemoved: recorder refused");
    assert_int_equal(find_product("p-1"), SIZE_MAX);
    assert_int_equal(rec.n, 2);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(create_store_saves_a_new_store),
        T(create_store_rules_save_nothing),
        T(create_store_passes_repository_errors_up),
        T(create_store_out_of_memory),
        T(participation_is_toggled_and_saved),
        T(participation_rules),
        T(participation_passes_repository_errors_up),
        T(add_product_saves_it),
        T(add_product_to_unknown_store_is_not_found),
        T(add_product_rules_save_nothing),
        T(add_product_passes_repository_errors_up),
        T(remove_product),
        T(get_store),
        T(get_stores_and_participating_stores),
        T(get_catalog),
        T(get_product),
        T(null_err_is_allowed),
        T(commands_publish_after_saving),
        T(failed_commands_publish_nothing),
        T(handler_failure_is_reported_after_saving),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
