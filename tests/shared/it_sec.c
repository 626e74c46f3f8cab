/* it_sec.c -- integration tests of sec.h's PostgreSQL saga store against the lab (scripts/lab.sh
 * up): a round trip of every field, the upsert, not found, a bad schema name, and data that does
 * not decode.
 *
 * Every test gets a scratch database of its own from e2e_scratch_open() with the schema "sectest"
 * and its sagas table (the SQL of sec.h's header), dropped afterwards. The saga's data is
 * sectest.Data (sec_test.proto).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libpq-fe.h>

#include "core.h"
#include "e2e.h"
#include "log.h"
#include "pb.h"
#include "pg.h"
#include "sec.h"
#include "sec_test.pb-c.h"

static const char TABLES_SQL[] =
    "CREATE SCHEMA sectest;"
    "CREATE TABLE sectest.sagas ("
    "  id text NOT NULL, name text NOT NULL, data jsonb NOT NULL, step int NOT NULL,"
    "  done bool NOT NULL, compensating bool NOT NULL, awaiting text NOT NULL DEFAULT '',"
    "  updated_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,"
    "  PRIMARY KEY (id, name));";

static const struct sec_saga saga = {"sectest.Order", "mallbots.sectest.replies.Order",
                                     &sectest__data__descriptor, NULL, 0};
static const struct sec_saga other = {"sectest.Other", "mallbots.sectest.replies.Other",
                                      &sectest__data__descriptor, NULL, 0};

#define AWAIT "6f1ad2b0-3c4d-4e5f-8a9b-0c1d2e3f4a5b"

struct fx {
    struct e2e_scratch scratch;
    pg_pool *pool;
    sec_store *store;
};

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    sec_store_free(f->store);
    pg_pool_free(f->pool);
    int rc = e2e_scratch_close(&f->scratch);
    free(f);
    return rc;
}

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f || e2e_scratch_open(&f->scratch, "it_sec") != 0) {
        free(f);
        return -1;
    }
    core_err err = CORE_ERR_INIT;
    struct pg_pool_opts opts = {.conninfo = f->scratch.db.conninfo, .size = 2};
    pg_conn *c = NULL;
    core_status st = pg_pool_new(&f->pool, &opts, &err);
    if (!st && !(st = pg_acquire(f->pool, &c, &err))) {
        st = pg_exec_script(c, TABLES_SQL, &err);
        pg_release(f->pool, c);
    }
    if (!st)
        st = sec_pg_store_new(&f->store, f->pool, "sectest", &err);
    *state = f;
    if (st) {
        fprintf(stderr, "it_sec: setting up %s: %s\n", f->scratch.db.name, err.msg);
        fx_teardown(state);
        return -1;
    }
    return 0;
}

static void must(core_status s, const core_err *err)
{
    if (s)
        fprintf(stderr, "failed: %s\n", err->msg);
    assert_int_equal(s, CORE_OK);
}

/* A state x1 at step 2, walking forward, awaiting AWAIT, with data {o1, c1, "", 12.5}. */
static void make_state(struct sec_state *st)
{
    sec_state_init(st);
    core_strlcpy(st->id, "x1", sizeof st->id);
    Sectest__Data *d = pb_new_of(sectest__data);
    assert_non_null(d);
    assert_int_equal(pb_set_string(&d->order_id, "o1", NULL), CORE_OK);
    assert_int_equal(pb_set_string(&d->customer_id, "c1 \"O'Reilly\"", NULL), CORE_OK);
    d->total = 12.5;
    st->data = &d->base;
    st->step = 2;
    core_strlcpy(st->awaiting, AWAIT, sizeof st->awaiting);
}

static void not_found(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct sec_state st = SEC_STATE_INIT;
    assert_int_equal(sec_store_load(f->store, &saga, "x1", &st, &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "saga sectest.Order x1 not found");
    assert_null(st.data);
}

static void round_trip_and_upsert(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct sec_state st;
    make_state(&st);
    must(sec_store_save(f->store, &saga, &st, &err), &err);
    struct sec_state got = SEC_STATE_INIT;
    must(sec_store_load(f->store, &saga, "x1", &got, &err), &err);
    assert_string_equal(got.id, "x1");
    assert_int_equal(got.step, 2);
    assert_false(got.done);
    assert_false(got.compensating);
    assert_string_equal(got.awaiting, AWAIT);
    const Sectest__Data *d = (const Sectest__Data *)got.data;
    assert_string_equal(d->order_id, "o1");
    assert_string_equal(d->customer_id, "c1 \"O'Reilly\"");
    assert_string_equal(d->shopping_id, "");
    assert_true(d->total == 12.5);
    sec_state_release(&got);

    /* the same saga saved again replaces the row: one row, the new values */
    assert_int_equal(pb_set_string(&((Sectest__Data *)st.data)->shopping_id, "list-1", NULL),
                     CORE_OK);
    st.step = -1;
    st.done = true;
    st.compensating = true;
    st.awaiting[0] = '\0';
    must(sec_store_save(f->store, &saga, &st, &err), &err);
    must(sec_store_load(f->store, &saga, "x1", &got, &err), &err);
    assert_int_equal(got.step, -1);
    assert_true(got.done);
    assert_true(got.compensating);
    assert_string_equal(got.awaiting, "");
    assert_string_equal(((const Sectest__Data *)got.data)->shopping_id, "list-1");
    sec_state_release(&got);

    /* another saga's name with the same id is another row */
    assert_int_equal(sec_store_load(f->store, &other, "x1", &got, &err), CORE_ERR_NOT_FOUND);
    st.step = 0;
    must(sec_store_save(f->store, &other, &st, &err), &err);
    must(sec_store_load(f->store, &saga, "x1", &got, &err), &err);
    assert_int_equal(got.step, -1);
    sec_state_release(&got);

    PGresult *res = NULL;
    must(pg_run(f->pool,
                "SELECT count(*), max(data->>'shoppingId') FROM sectest.sagas WHERE id = 'x1'", 0,
                NULL, &res, &err),
         &err);
    assert_string_equal(pg_get(res, 0, 0), "2");
    assert_string_equal(pg_get(res, 0, 1), "list-1"); /* data is readable JSON */
    PQclear(res);
    sec_state_release(&st);
}

static void bad_stored_data(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    must(pg_run(f->pool,
                "INSERT INTO sectest.sagas (id, name, data, step, done, compensating) "
                "VALUES ('x2', 'sectest.Order', '{\"orderId\": 5}', 1, false, false)",
                0, NULL, NULL, &err),
         &err);
    struct sec_state st = SEC_STATE_INIT;
    assert_int_equal(sec_store_load(f->store, &saga, "x2", &st, &err), CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "saga sectest.Order x2: stored data is not a sectest.Data"));
    assert_null(st.data);
}

static void bad_schema(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    sec_store *s = NULL;
    assert_int_equal(sec_pg_store_new(&s, f->pool, "Co\"sec", &err), CORE_ERR_INVALID);
    assert_null(s);
    assert_non_null(strstr(err.msg, "is not a plain lower-case name"));
}

int main(void)
{
    log_init(LOG_LEVEL_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(not_found, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(round_trip_and_upsert, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(bad_stored_data, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(bad_schema, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
