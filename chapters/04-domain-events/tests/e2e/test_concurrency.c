/* test_concurrency.c -- end to end: many checkouts at once (a regression test of chapter 04).
 *
 * 20 baskets with one item each are checked out by 20 threads at the same moment, each thread
 * with its own HTTP client (an e2e_app is driven by one thread only). Every checkout must answer
 * 200 and every basket must become a pending order, as in chapter 03.
 *
 * Why: a checkout publishes "baskets.BasketCheckedOut"; its handler calls ordering, which calls
 * customers, payments and depot (and depot calls stores), and each of them needs a database
 * connection of its own. Chapter 04's first version wrote the basket in a transaction around the
 * publishing, so every checkout held a pooled connection while those nested calls ran. The
 * program has 16 pooled connections and 16 web threads: 16 checkouts in their transactions held
 * the whole pool, their nested calls waited for a connection, and after 5 s the checkouts answered
 * 503 "... no database connection free within 5000 ms".
 *
 * Whether that happens on its own depends on timing, so the second test forces it: the test holds
 * an ACCESS EXCLUSIVE lock on customers.customers for 2 s while the checkouts start (a slow
 * customers module). Every checkout gets as far as customers.AuthorizeCustomer and waits there;
 * with the old code each waiting checkout also held a pooled connection, so the pool was used up
 * and the checkouts failed, every time. Without that, the checkouts wait for the lock (less than
 * the pool's 5 s) and then all go through.
 *
 * Only the REST API is used to look at the result, so chapter 05 (event-sourced baskets and
 * orders: no baskets.baskets or ordering.orders tables) inherits this file unchanged. The last
 * test expects a clean shutdown.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "e2e.h"

#define NBASKETS 20

static e2e_app *app;
static char store_id[E2E_ID_MAX], product_id[E2E_ID_MAX], customer_id[E2E_ID_MAX];

/* ---- checkouts from many threads ---------------------------------------------------------- */

/* Holds the threads back until all of them exist, then lets them go at once. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open;
};

static void gate_wait(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* One basket and its checkout, run by its own thread. */
struct checkout {
    char basket_id[E2E_ID_MAX];
    char payment_id[E2E_ID_MAX];
    pthread_t thread;
    struct gate *start;           /* borrowed */
    struct e2e_async_request req; /* the checkout request and its answer */
};

static void *run_checkout(void *arg)
{
    struct checkout *c = arg;
    gate_wait(c->start);
    e2e_request_run(&c->req);
    return NULL;
}

/* Given NBASKETS baskets with one item each, and a payment for each. */
static void given_baskets(struct checkout *co)
{
    memset(co, 0, NBASKETS * sizeof *co);
    for (int i = 0; i < NBASKETS; i++) {
        e2e_expect_id(app, "POST", "/api/baskets", E2E_F("{\"customerId\":\"%s\"}", customer_id),
                      co[i].basket_id);
        json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/addItem", co[i].basket_id),
                                  E2E_F("{\"productId\":\"%s\",\"quantity\":1}", product_id)));
        e2e_expect_id(app, "POST", "/api/payments",
                      E2E_F("{\"customerId\":\"%s\",\"amount\":3.5}", customer_id),
                      co[i].payment_id);
    }
}

/* Starts one thread per checkout and lets them all send at once. Returns how many threads were
 * started (NBASKETS unless pthread_create failed): join_checkouts() waits for them. */
static int start_checkouts(struct checkout *co, struct gate *start)
{
    int started = 0;
    for (; started < NBASKETS; started++) {
        co[started].start = start;
        e2e_request_init(&co[started].req, app, "PUT",
                         E2E_F("/api/baskets/%s/checkout", co[started].basket_id),
                         E2E_F("{\"paymentId\":\"%s\"}", co[started].payment_id));
        if (pthread_create(&co[started].thread, NULL, run_checkout, &co[started]) != 0)
            break;
    }
    gate_open(start);
    return started;
}

/* Waits for the started threads, prints every checkout that did not answer 200 and frees the
 * answers (before any assertion, so a failing one leaks nothing). Returns how many failed. */
static int join_checkouts(struct checkout *co, int started)
{
    for (int i = 0; i < started; i++)
        pthread_join(co[i].thread, NULL);
    int failed = 0;
    for (int i = 0; i < NBASKETS; i++) {
        struct e2e_async_request *r = &co[i].req;
        if (r->status != 200) {
            failed++;
            fprintf(stderr, "checkout of basket %s: status %d: %s\n", co[i].basket_id, r->status,
                    r->response ? r->response : r->error);
        }
        e2e_request_release(r);
    }
    if (failed)
        fprintf(stderr, "%d of %d concurrent checkouts failed\n", failed, NBASKETS);
    return failed;
}

/* Then every checkout answered 200 (failed: what join_checkouts() counted), and every basket is
 * a pending order. */
static void expect_all_checked_out(struct checkout *co, int failed)
{
    assert_int_equal(failed, 0);
    for (int i = 0; i < NBASKETS; i++) {
        /* checked out: a second checkout is refused */
        e2e_expect_error(app, "PUT", E2E_F("/api/baskets/%s/checkout", co[i].basket_id),
                         E2E_F("{\"paymentId\":\"%s\"}", co[i].payment_id), 400,
                         "the basket cannot be modified");
        json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/ordering/%s", co[i].basket_id), NULL);
        e2e_expect_json_str(j, "order.status", "pending");
        e2e_expect_json_str(j, "order.customerId", customer_id);
        e2e_expect_json_str(j, "order.paymentId", co[i].payment_id);
        assert_int_equal(e2e_json_len(j, "order.items"), 1);
        json_decref(j);
    }
}

/* ---- tests -------------------------------------------------------------------------------- */

static void catalog_and_customer(void **state)
{
    (void)state;
    e2e_expect_id(app, "POST", "/api/stores", "{\"name\":\"Rush Hour\",\"location\":\"Level 1\"}",
                  store_id);
    e2e_expect_id(app, "POST", E2E_F("/api/stores/%s/products", store_id),
                  "{\"name\":\"Busy Bee\",\"description\":\"\",\"sku\":\"BB\",\"price\":3.5}",
                  product_id);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/stores/%s/participating", store_id), NULL));
    e2e_expect_id(app, "POST", "/api/customers",
                  "{\"name\":\"Connie Current\",\"smsNumber\":\"555-0120\"}", customer_id);
}

/* 20 checkouts at once. */
static void concurrent_checkouts_all_succeed(void **state)
{
    (void)state;
    static struct checkout co[NBASKETS];
    struct gate start = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
    given_baskets(co);
    int started = start_checkouts(co, &start);
    int failed = join_checkouts(co, started);
    assert_int_equal(started, NBASKETS);
    expect_all_checked_out(co, failed);
}

/* 20 checkouts at once while customers answers slowly (2 s): the checkouts wait, but hold no
 * database connection while they wait. */
static void concurrent_checkouts_wait_for_a_slow_module(void **state)
{
    (void)state;
    static struct checkout co[NBASKETS];
    struct gate start = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
    core_err err = CORE_ERR_INIT;
    given_baskets(co);
    static const char lock[] = "lock table customers.customers in access exclusive mode";
    core_status st = e2e_sql_exec(app, "begin", 0, NULL, &err);
    if (st == CORE_OK && (st = e2e_sql_exec(app, lock, 0, NULL, &err)))
        e2e_sql_exec(app, "rollback", 0, NULL, NULL);
    if (st)
        fprintf(stderr, "locking customers.customers: %s\n", err.msg);
    assert_int_equal(st, CORE_OK);
    int started = start_checkouts(co, &start);
    nanosleep(&(struct timespec){2, 0}, NULL);
    st = e2e_sql_exec(app, "commit", 0, NULL, &err); /* customers answers again */
    int failed = join_checkouts(co, started);
    if (st)
        fprintf(stderr, "unlocking customers.customers: %s\n", err.msg);
    assert_int_equal(st, CORE_OK);
    assert_int_equal(started, NBASKETS);
    expect_all_checked_out(co, failed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(catalog_and_customer),
        cmocka_unit_test(concurrent_checkouts_all_succeed),
        cmocka_unit_test(concurrent_checkouts_wait_for_a_slow_module),
        cmocka_unit_test(e2e_shuts_down_cleanly),
    };
    return e2e_run_group("concurrency", &app, tests);
}
