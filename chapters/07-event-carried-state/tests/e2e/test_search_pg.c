/* test_search_pg.c -- integration tests (chapter 07) of the search module's read model on the real
 * PostgreSQL of the lab: search/postgres.c under the application, with the fake caches of
 * tests/support/search_fakes.h for the names.
 *
 * One scratch database for the file (e2e_scratch_open(): through PG_CONN, dropped at the end, with
 * a leak check), migrated with the chapter's own migrations; each test starts from empty search
 * tables. What is checked:
 *   - the writer's upserts: the same OrderCreated twice is one row with its items once; status
 *     events move forward only; a status event before OrderCreated waits in a placeholder that
 *     queries do not show, and OrderCreated keeps the later status;
 *   - every filter of SearchOrders alone and all of them combined, against the answer computed
 *     here from the seeded orders (a brute-force filter over the same data), newest first;
 *   - ids with the characters that a text[] literal must escape (" \ , { } and blanks) match
 *     exactly themselves;
 *   - keyset paging: every order exactly once and in order, also while new orders (newer and older
 *     than the page boundary) are written between pages, and through orders with the same time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "e2e.h"
#include "monolith/monolith.h"
#include "search/adapters.h"
#include "search_fakes.h"

static struct e2e_scratch scratch = E2E_SCRATCH_INIT;
static pg_pool *pool;
static struct search_fake_caches caches;
static struct search_app app;

static const struct search_fake_name customers[] = {
    {"c0", "Ada", NULL}, {"c1", "Brian", NULL}, {"c2", "Chen", NULL}, {NULL, NULL, NULL}};
static const struct search_fake_name stores[] = {{"s0", "Lamp Land", NULL},
                                                 {"s1", "Candle Corner", NULL},
                                                 {"s2", "Gift Garden", NULL},
                                                 {NULL, NULL, NULL}};
static const struct search_fake_name products[] = {
    {"p0", "Lava Lamp", "s0"}, {"p1", "Shade", "s0"}, {"p2", "Beeswax", "s1"},
    {"p3", "Wick", "s1"},      {"p4", "Card", "s2"},  {"p5", "Ribbon", "s2"},
    {NULL, NULL, NULL}};

static int group_setup(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    if (e2e_scratch_open(&scratch, "search_pg") != 0)
        return -1;
    struct pg_pool_opts opts = {scratch.db.conninfo, 8, 10000};
    if (pg_pool_new(&pool, &opts, &err) ||
        pg_migrate(pool, chapter_migrations, chapter_migration_count, NULL, NULL, &err)) {
        fprintf(stderr, "search_pg: setting up %s: %s\n", scratch.db.name, err.msg);
        pg_pool_free(pool);
        pool = NULL;
        e2e_scratch_close(&scratch);
        return -1;
    }
    caches = (struct search_fake_caches){customers, stores, products, NULL, 0};
    search__pg_orders(&app.orders, pool);
    search_fake_caches_port(&app.caches, &caches);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    pg_pool_free(pool);
    return e2e_scratch_close(&scratch);
}

static void sql(const char *text, int n, const char *const *params)
{
    core_err err = CORE_ERR_INIT;
    if (pg_run(pool, text, n, params, NULL, &err))
        fail_msg("SQL failed: %s", err.msg);
}

static long long sql_long(const char *text, const char *param)
{
    core_err err = CORE_ERR_INIT;
    PGresult *res = NULL;
    const char *params[] = {param};
    if (pg_run(pool, text, param ? 1 : 0, params, &res, &err))
        fail_msg("SQL failed: %s", err.msg);
    long long v = strtoll(pg_get(res, 0, 0), NULL, 10);
    PQclear(res);
    return v;
}

static int empty_tables(void **state)
{
    (void)state;
    sql("TRUNCATE search.orders, search.order_items", 0, NULL);
    return 0;
}

/* ---- writing orders ------------------------------------------------------------------------- */

#define SEED_MAX 64

/* What the tests seeded, to compute the expected answers: the order of index i. */
struct seeded {
    char id[48];
    int customer;    /* c<customer> */
    int products[3]; /* p<products[k]>, of store s<products[k] / 2> */
    int nitems;
    double total;
    int64_t us;
    const char *status;
};
static struct seeded seed[SEED_MAX];
static int nseed;

static void write_created(const char *id, const char *customer, const char *const *pids,
                          const char *const *sids, const double *prices, const int *qty, int n,
                          int64_t us)
{
    core_err err = CORE_ERR_INIT;
    Ordersapi__OrderCreated__Item items[4], *ptrs[4];
    Ordersapi__OrderCreated m = ORDERSAPI__ORDER_CREATED__INIT;
    for (int k = 0; k < n; k++) {
        ordersapi__order_created__item__init(&items[k]);
        items[k].product_id = (char *)pids[k];
        items[k].store_id = (char *)sids[k];
        items[k].price = prices[k];
        items[k].quantity = qty[k];
        ptrs[k] = &items[k];
    }
    m.id = (char *)id;
    m.customer_id = (char *)customer;
    m.items = ptrs;
    m.n_items = (size_t)n;
    if (search_app_order_created(&app, &m, us, &err))
        fail_msg("OrderCreated %s: %s", id, err.msg);
}

static void write_status(const char *id, const char *status, double total)
{
    core_err err = CORE_ERR_INIT;
    core_status st;
    if (strcmp(status, "Ready For Pickup") == 0) {
        Ordersapi__OrderReadied m = ORDERSAPI__ORDER_READIED__INIT;
        m.id = (char *)id;
        m.total = total;
        st = search_app_order_readied(&app, &m, &err);
    } else if (strcmp(status, "Canceled") == 0) {
        Ordersapi__OrderCanceled m = ORDERSAPI__ORDER_CANCELED__INIT;
        m.id = (char *)id;
        st = search_app_order_canceled(&app, &m, &err);
    } else {
        Ordersapi__OrderCompleted m = ORDERSAPI__ORDER_COMPLETED__INIT;
        m.id = (char *)id;
        st = search_app_order_completed(&app, &m, &err);
    }
    if (st)
        fail_msg("%s %s: %s", status, id, err.msg);
}

/* Seeds n orders deterministically (customers, products, totals, times and statuses vary) and
 * records them in seed[]. Time of order i: base + i * 1000 + 7 microseconds. */
static void seed_orders(int n, int64_t base)
{
    static const char *const statuses[] = {"New", "Ready For Pickup", "Canceled", "Completed"};
    static const char *const pid_names[] = {"p0", "p1", "p2", "p3", "p4", "p5"};
    static const char *const sid_names[] = {"s0", "s0", "s1", "s1", "s2", "s2"};
    static const char *const cust[] = {"c0", "c1", "c2"};
    assert_true(nseed + n <= SEED_MAX);
    for (int i = 0; i < n; i++) {
        struct seeded *s = &seed[nseed++];
        snprintf(s->id, sizeof s->id, "order-%03d", nseed - 1);
        s->customer = (i * 7) % 3;
        s->nitems = 1 + i % 3;
        const char *pids[3], *sids[3];
        double prices[3];
        int qty[3];
        s->total = 0;
        for (int k = 0; k < s->nitems; k++) {
            s->products[k] = (i + k * 2) % 6;
            pids[k] = pid_names[s->products[k]];
            sids[k] = sid_names[s->products[k]];
            prices[k] = 1.25 + (i % 5) * 2;
            qty[k] = 1 + (i + k) % 2;
            s->total += prices[k] * qty[k];
        }
        s->us = base + (int64_t)i * 1000 + 7;
        write_created(s->id, cust[s->customer], pids, sids, prices, qty, s->nitems, s->us);
        s->status = statuses[(i * 5) % 4];
        if (strcmp(s->status, "New") != 0)
            write_status(s->id, s->status, s->total);
    }
}

/* ---- the writer's upserts ------------------------------------------------------------------- */

static void order_created_twice_is_one_row(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    const char *pids[] = {"p0", "p2"}, *sids[] = {"s0", "s1"};
    const double prices[] = {9.99, 0.5};
    const int qty[] = {2, 3};
    write_created("o1", "c0", pids, sids, prices, qty, 2, 1765072800123456);
    write_created("o1", "c0", pids, sids, prices, qty, 2, 1765072800123456);
    assert_int_equal(sql_long("SELECT count(*) FROM search.orders", NULL), 1);
    assert_int_equal(sql_long("SELECT count(*) FROM search.order_items WHERE order_id = $1", "o1"),
                     2);
    struct search_order o = SEARCH_ORDER_INIT;
    assert_int_equal(search_app_get_order(&app, "o1", &o, &err), CORE_OK);
    assert_string_equal(o.customer_name, "Ada");
    assert_string_equal(o.status, "New");
    assert_true(o.created_us == 1765072800123456); /* to the microsecond */
    assert_true(o.total == 9.99 * 2 + 0.5 * 3);
    assert_int_equal(o.nitems, 2);
    assert_string_equal(o.items[0].product_name, "Lava Lamp");
    assert_string_equal(o.items[0].store_name, "Lamp Land");
    assert_true(o.items[0].price == 9.99);
    assert_int_equal(o.items[0].quantity, 2);
    assert_string_equal(o.items[1].product_name, "Beeswax");
    assert_string_equal(o.items[1].store_name, "Candle Corner");
    search_order_release(&o);
    /* the arrays the filters use */
    core_err e2 = CORE_ERR_INIT;
    PGresult *res = NULL;
    const char *params[] = {"o1"};
    assert_int_equal(pg_run(pool,
                            "SELECT product_ids::text, store_ids::text FROM search.orders WHERE "
                            "order_id = $1",
                            1, params, &res, &e2),
                     CORE_OK);
    assert_string_equal(pg_get(res, 0, 0), "{p0,p2}");
    assert_string_equal(pg_get(res, 0, 1), "{s0,s1}");
    PQclear(res);
}

static void statuses_move_forward_only(void **state)
{
    (void)state;
    const char *pids[] = {"p0"}, *sids[] = {"s0"};
    const double prices[] = {4};
    const int qty[] = {1};
    write_created("o1", "c0", pids, sids, prices, qty, 1, 100);
    write_status("o1", "Ready For Pickup", 4);
    write_status("o1", "Ready For Pickup", 4);
    write_status("o1", "Completed", 0);
    write_status("o1", "Ready For Pickup", 4);                  /* late */
    write_status("o1", "Canceled", 0);                          /* ranks below Completed */
    write_created("o1", "c0", pids, sids, prices, qty, 1, 100); /* redelivered */
    core_err err = CORE_ERR_INIT;
    struct search_order o = SEARCH_ORDER_INIT;
    assert_int_equal(search_app_get_order(&app, "o1", &o, &err), CORE_OK);
    assert_string_equal(o.status, "Completed");
    assert_int_equal(o.nitems, 1);
    search_order_release(&o);
}

static void a_placeholder_waits_for_order_created(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct search_order o = SEARCH_ORDER_INIT;
    write_status("o2", "Ready For Pickup", 12.5);
    assert_int_equal(sql_long("SELECT count(*) FROM search.orders WHERE order_id = $1", "o2"), 1);
    assert_int_equal(search_app_get_order(&app, "o2", &o, &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "order o2 not found");
    search_order_release(&o);
    struct search_filters none = {0};
    struct search_order_list page = SEARCH_ORDER_LIST_INIT;
    char next[SEARCH_TOKEN_MAX];
    assert_int_equal(search_app_search_orders(&app, &none, NULL, 0, &page, next, &err), CORE_OK);
    assert_int_equal(page.n, 0); /* not shown */
    search_order_list_release(&page);

    const char *pids[] = {"p4"}, *sids[] = {"s2"};
    const double prices[] = {6.25};
    const int qty[] = {2};
    write_created("o2", "c2", pids, sids, prices, qty, 1, 200);
    assert_int_equal(search_app_get_order(&app, "o2", &o, &err), CORE_OK);
    assert_string_equal(o.status, "Ready For Pickup");
    assert_string_equal(o.customer_name, "Chen");
    assert_int_equal(o.nitems, 1);
    search_order_release(&o);
}

/* ---- the filters ------------------------------------------------------------------------------
 */

static bool has_product(const struct seeded *s, const char *const *ids, size_t n)
{
    for (int k = 0; k < s->nitems; k++)
        for (size_t j = 0; j < n; j++) {
            char p[16];
            snprintf(p, sizeof p, "p%d", s->products[k]);
            if (strcmp(p, ids[j]) == 0)
                return true;
        }
    return false;
}

static bool has_store(const struct seeded *s, const char *const *ids, size_t n)
{
    for (int k = 0; k < s->nitems; k++)
        for (size_t j = 0; j < n; j++) {
            char st[16];
            snprintf(st, sizeof st, "s%d", s->products[k] / 2);
            if (strcmp(st, ids[j]) == 0)
                return true;
        }
    return false;
}

/* The brute-force answer: does seeded order s match f? */
static bool matches(const struct seeded *s, const struct search_filters *f)
{
    char c[16];
    snprintf(c, sizeof c, "c%d", s->customer);
    return (!f->customer_id || !f->customer_id[0] || strcmp(c, f->customer_id) == 0) &&
           (!f->has_after || s->us > f->after_us) && (!f->has_before || s->us < f->before_us) &&
           (!f->nstore_ids || has_store(s, f->store_ids, f->nstore_ids)) &&
           (!f->nproduct_ids || has_product(s, f->product_ids, f->nproduct_ids)) &&
           (f->min_total <= 0 || s->total >= f->min_total - 1e-9) &&
           (f->max_total <= 0 || s->total <= f->max_total + 1e-9) &&
           (!f->status || !f->status[0] || strcmp(s->status, f->status) == 0);
}

/* Runs the search for f in pages of `limit` and checks the whole answer against the brute force:
 * the same orders, newest first, and their details. Returns how many matched. */
static int check_search(const struct search_filters *f, int limit, const char *what)
{
    core_err err = CORE_ERR_INIT;
    char token[SEARCH_TOKEN_MAX] = "", next[SEARCH_TOKEN_MAX];
    int want[SEED_MAX], nwant = 0, got = 0;
    for (int i = nseed - 1; i >= 0; i--) /* seeded oldest first: newest first is backwards */
        if (matches(&seed[i], f))
            want[nwant++] = i;
    for (int pages = 0;; pages++) {
        struct search_order_list page = SEARCH_ORDER_LIST_INIT;
        if (search_app_search_orders(&app, f, token, limit, &page, next, &err))
            fail_msg("%s: %s", what, err.msg);
        for (size_t k = 0; k < page.n; k++, got++) {
            if (got >= nwant)
                fail_msg("%s: more orders than the %d expected (%s)", what, nwant,
                         page.items[k].order_id);
            const struct seeded *s = &seed[want[got]];
            if (strcmp(page.items[k].order_id, s->id) != 0)
                fail_msg("%s: order %d is %s, expected %s", what, got, page.items[k].order_id,
                         s->id);
            assert_int_equal(page.items[k].nitems, s->nitems);
            assert_true(page.items[k].created_us == s->us);
            assert_string_equal(page.items[k].status, s->status);
        }
        search_order_list_release(&page);
        if (!next[0])
            break;
        assert_true(pages < SEED_MAX);
        core_strlcpy(token, next, sizeof token);
    }
    if (got != nwant)
        fail_msg("%s: %d orders, expected %d", what, got, nwant);
    return got;
}

static void every_filter_alone_and_combined(void **state)
{
    (void)state;
    nseed = 0;
    seed_orders(40, 1765000000000000);
    const char *s1[] = {"s1"}, *s02[] = {"s0", "s2"}, *p3[] = {"p3"}, *p05[] = {"p0", "p5"},
               *nobody[] = {"s-none"};
    struct {
        const char *what;
        struct search_filters f;
    } cases[] = {
        {"no filter", {0}},
        {"customerId", {.customer_id = "c1"}},
        {"after", {.has_after = true, .after_us = seed[24].us}},
        {"before", {.has_before = true, .before_us = seed[9].us}},
        {"after and before",
         {.has_after = true, .after_us = seed[5].us, .has_before = true, .before_us = seed[30].us}},
        {"storeIds one", {.store_ids = s1, .nstore_ids = 1}},
        {"storeIds two", {.store_ids = s02, .nstore_ids = 2}},
        {"storeIds unknown", {.store_ids = nobody, .nstore_ids = 1}},
        {"productIds one", {.product_ids = p3, .nproduct_ids = 1}},
        {"productIds two", {.product_ids = p05, .nproduct_ids = 2}},
        {"minTotal", {.min_total = 12}},
        {"maxTotal", {.max_total = 8}},
        {"minTotal and maxTotal", {.min_total = 5.25, .max_total = 16.5}},
        {"status New", {.status = "New"}},
        {"status Ready For Pickup", {.status = "Ready For Pickup"}},
        {"status Canceled", {.status = "Canceled"}},
        {"status Completed", {.status = "Completed"}},
        /* orders 3, 15, 27 and 39 are c0's, Completed, with one item p3 (of s1); 39 is too late,
         * 3 too dear (14.50): 15 (2.50) and 27 (10.50) remain */
        {"all combined",
         {.customer_id = "c0",
          .has_after = true,
          .after_us = seed[2].us,
          .has_before = true,
          .before_us = seed[38].us,
          .store_ids = s1,
          .nstore_ids = 1,
          .product_ids = p3,
          .nproduct_ids = 1,
          .min_total = 2,
          .max_total = 12,
          .status = "Completed"}},
    };
    int total = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = check_search(&cases[i].f, 0, cases[i].what); /* default page: 20 */
        int n7 = check_search(&cases[i].f, 7, cases[i].what);
        assert_int_equal(n, n7);
        if (i == 0)
            assert_int_equal(n, 40);
        else
            assert_true(n < 40); /* each filter does filter */
        if (strcmp(cases[i].what, "storeIds unknown") != 0)
            assert_true(n > 0);
        if (strcmp(cases[i].what, "all combined") == 0)
            assert_int_equal(n, 2);
        total += n;
        printf("search_pg: %-24s %2d orders\n", cases[i].what, n);
    }
    assert_true(total > 40);
}

static void ids_with_array_syntax_match_exactly(void **state)
{
    (void)state;
    const char *odd[] = {"s\"q", "s\\b", "s,c", "{s}", "s d", "NULL"};
    for (int i = 0; i < 6; i++) {
        char id[16];
        snprintf(id, sizeof id, "odd-%d", i);
        const char *pids[] = {odd[i]}, *sids[] = {odd[i]};
        const double prices[] = {1};
        const int qty[] = {1};
        write_created(id, "c0", pids, sids, prices, qty, 1, 1000 + i);
    }
    core_err err = CORE_ERR_INIT;
    char next[SEARCH_TOKEN_MAX];
    for (int i = 0; i < 6; i++) {
        struct search_filters f = {.store_ids = &odd[i], .nstore_ids = 1};
        struct search_order_list page = SEARCH_ORDER_LIST_INIT;
        assert_int_equal(search_app_search_orders(&app, &f, NULL, 0, &page, next, &err), CORE_OK);
        assert_int_equal(page.n, 1);
        char id[16];
        snprintf(id, sizeof id, "odd-%d", i);
        assert_string_equal(page.items[0].order_id, id);
        assert_string_equal(page.items[0].items[0].store_id, odd[i]);
        search_order_list_release(&page);
        f = (struct search_filters){.product_ids = &odd[i], .nproduct_ids = 1};
        assert_int_equal(search_app_search_orders(&app, &f, NULL, 0, &page, next, &err), CORE_OK);
        assert_int_equal(page.n, 1);
        search_order_list_release(&page);
    }
}

/* ---- paging ------------------------------------------------------------------------------------
 */

static void pages_are_stable_while_orders_arrive(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    nseed = 0;
    seed_orders(30, 1765000000000000);
    char token[SEARCH_TOKEN_MAX] = "", next[SEARCH_TOKEN_MAX];
    bool seen[SEED_MAX] = {false};
    int64_t last_us = INT64_MAX;
    char last_id[48] = "";
    int pages = 0, got = 0, added = 0;
    struct search_filters none = {0};
    do {
        struct search_order_list page = SEARCH_ORDER_LIST_INIT;
        assert_int_equal(search_app_search_orders(&app, &none, token, 4, &page, next, &err),
                         CORE_OK);
        for (size_t k = 0; k < page.n; k++) {
            const struct search_order *o = &page.items[k];
            /* strictly after the previous one, newest first */
            assert_true(o->created_us < last_us ||
                        (o->created_us == last_us && strcmp(o->order_id, last_id) < 0));
            last_us = o->created_us;
            core_strlcpy(last_id, o->order_id, sizeof last_id);
            int idx = -1;
            for (int i = 0; i < 30; i++)
                if (strcmp(seed[i].id, o->order_id) == 0)
                    idx = i;
            if (idx >= 0) {
                assert_false(seen[idx]); /* never twice */
                seen[idx] = true;
                got++;
            }
        }
        search_order_list_release(&page);
        /* between pages: a new order newer than everything (it belongs on page 1, already read),
         * and every other page one older than everything (it comes at the end) */
        char id[32];
        const char *pids[] = {"p0"}, *sids[] = {"s0"};
        const double prices[] = {3};
        const int qty[] = {1};
        snprintf(id, sizeof id, "late-new-%d", pages);
        write_created(id, "c0", pids, sids, prices, qty, 1, 1766000000000000 + pages);
        if (pages % 2 == 0) {
            snprintf(id, sizeof id, "late-old-%d", pages);
            write_created(id, "c0", pids, sids, prices, qty, 1, 1700000000000000 + pages);
            added++;
        }
        core_strlcpy(token, next, sizeof token);
        pages++;
        assert_true(pages < 40);
    } while (token[0]);
    assert_int_equal(got, 30); /* every seeded order exactly once */
    (void)added;
}

static void orders_with_the_same_time_page_by_id(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    const char *pids[] = {"p0"}, *sids[] = {"s0"};
    const double prices[] = {3};
    const int qty[] = {1};
    const char *ids[] = {"b", "d", "a", "e", "c"};
    for (int i = 0; i < 5; i++)
        write_created(ids[i], "c0", pids, sids, prices, qty, 1, 555);
    const char *want[] = {"e", "d", "c", "b", "a"};
    char token[SEARCH_TOKEN_MAX] = "", next[SEARCH_TOKEN_MAX];
    struct search_filters none = {0};
    for (int i = 0; i < 5; i++) {
        struct search_order_list page = SEARCH_ORDER_LIST_INIT;
        assert_int_equal(search_app_search_orders(&app, &none, token, 1, &page, next, &err),
                         CORE_OK);
        assert_int_equal(page.n, 1);
        assert_string_equal(page.items[0].order_id, want[i]);
        search_order_list_release(&page);
        assert_int_equal(next[0] != '\0', i < 4);
        core_strlcpy(token, next, sizeof token);
    }
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, empty_tables, NULL)
    const struct CMUnitTest tests[] = {
        T(order_created_twice_is_one_row),        T(statuses_move_forward_only),
        T(a_placeholder_waits_for_order_created), T(every_filter_alone_and_combined),
        T(ids_with_array_syntax_match_exactly),   T(pages_are_stable_while_orders_arrive),
        T(orders_with_the_same_time_page_by_id),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
