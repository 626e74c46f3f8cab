/* test_pg.c -- unit tests of pg.h that need no PostgreSQL server: connection failures, allocation
 * failures, the migration list check, the SQLSTATE mapping and pg_get(). The parts that talk to a
 * server are in it_pg.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <libpq-fe.h>

#include "core.h"
#include "pg.h"

/* Nothing listens on port 1 of 127.0.0.1: the connection is refused at once. */
#define UNREACHABLE "host=127.0.0.1 port=1 connect_timeout=2 dbname=x user=y"

static void unreachable_server_is_unavailable(void **state)
{
    (void)state;
    long live = core_alloc_live();
    const char *conninfos[] = {
        UNREACHABLE, "host=127.0.0.1 port=1 dbname=x user=y", /* no connect_timeout: one is added */
        "postgresql://y@127.0.0.1:1/x",                       /* URI form */
    };
    for (size_t i = 0; i < sizeof conninfos / sizeof conninfos[0]; i++) {
        pg_pool *pool = (pg_pool *)&live; /* must be reset to NULL */
        core_err err = CORE_ERR_INIT;
        struct pg_pool_opts opts = {.conninfo = conninfos[i]};
        assert_int_equal(pg_pool_new(&pool, &opts, &err), CORE_ERR_UNAVAILABLE);
        assert_null(pool);
        assert_int_equal(err.status, CORE_ERR_UNAVAILABLE);
        /* names the server, and holds libpq's reason on one line */
        assert_non_null(strstr(err.msg, "127.0.0.1"));
        assert_non_null(strstr(err.msg, "cannot connect to PostgreSQL at 127.0.0.1:1"));
        assert_non_null(strstr(err.msg, "refused"));
        assert_null(strchr(err.msg, '\n'));
        /* ...which stays inside: clients get the API's words */
        assert_string_equal(core_err_client_msg(&err), "the database is unavailable, try again");
    }
    assert_int_equal(core_alloc_live(), live);
}

static void bad_options_are_invalid(void **state)
{
    (void)state;
    long live = core_alloc_live();
    pg_pool *pool = NULL;
    core_err err = CORE_ERR_INIT;
    struct pg_pool_opts opts = {.conninfo = "host=127.0.0.1 bogus_option=1"};
    assert_int_equal(pg_pool_new(&pool, &opts, &err), CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "bogus_option"));
    assert_null(pool);

    opts.conninfo = "host=127.0.0.1 port"; /* no '=' */
    assert_int_equal(pg_pool_new(&pool, &opts, &err), CORE_ERR_INVALID);

    opts.conninfo = NULL;
    assert_int_equal(pg_pool_new(&pool, &opts, &err), CORE_ERR_INVALID);
    assert_int_equal(pg_pool_new(&pool, NULL, &err), CORE_ERR_INVALID);

    opts.conninfo = UNREACHABLE;
    opts.size = -1;
    assert_int_equal(pg_pool_new(&pool, &opts, &err), CORE_ERR_INVALID);
    opts.size = 2;
    opts.acquire_timeout_ms = -5;
    assert_int_equal(pg_pool_new(&pool, &opts, &err), CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "negative"));
    assert_int_equal(core_alloc_live(), live);
}

/* Every allocation before the connect attempt fails in turn: NOMEM, nothing leaked; once all of
 * them succeed the connect itself fails (no server), so the whole path was covered. */
static void allocation_failures_leak_nothing(void **state)
{
    (void)state;
    long live = core_alloc_live();
    pg_pool *pool = NULL;
    core_err err = CORE_ERR_INIT;
    struct pg_pool_opts opts = {.conninfo = UNREACHABLE, .size = 3};

    core_alloc_fail_after(0);
    core_status st = pg_pool_new(&pool, &opts, &err);
    core_alloc_fail_after(-1);
    assert_int_equal(st, CORE_ERR_NOMEM);
    assert_null(pool);
    assert_int_equal(core_alloc_live(), live);

    int nomem = 0;
    for (long k = 1; k < 100; k++) {
        core_alloc_fail_after(k);
        st = pg_pool_new(&pool, &opts, &err);
        core_alloc_fail_after(-1);
        assert_null(pool);
        assert_int_equal(core_alloc_live(), live);
        if (st == CORE_ERR_NOMEM) {
            nomem++;
            continue;
        }
        assert_int_equal(st, CORE_ERR_UNAVAILABLE);
        break;
    }
    /* pool, 2 arrays, 2 strings per key (5 given + connect_timeout present), conn */
    assert_true(nomem >= 10);
}

static void migration_list_is_checked(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    const struct pg_migration good[] = {
        {"001_a.sql", "SELECT 1"}, {"002_b.sql", "SELECT 1"}, {"10_c.sql", "SELECT 1"}};
    assert_int_equal(pg_migrations_check(good, 3, &err), CORE_OK);
    assert_int_equal(pg_migrations_check(NULL, 0, &err), CORE_OK);
    assert_int_equal(err.status, CORE_OK); /* err untouched on success */

    const struct pg_migration same[] = {{"001_a.sql", "SELECT 1"}, {"001_b.sql", "SELECT 1"}};
    assert_int_equal(pg_migrations_check(same, 2, &err), CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "\"001_b.sql\" comes after \"001_a.sql\""));
    assert_non_null(strstr(err.msg, "strictly increasing"));

    const struct pg_migration down[] = {
        {"001_a.sql", "SELECT 1"}, {"003_b.sql", "SELECT 1"}, {"002_c.sql", "SELECT 1"}};
    assert_int_equal(pg_migrations_check(down, 3, &err), CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "002_c.sql"));
    /* numbers, not text: "10" follows "9" */
    const struct pg_migration numeric[] = {{"9_a.sql", "SELECT 1"}, {"10_b.sql", "SELECT 1"}};
    assert_int_equal(pg_migrations_check(numeric, 2, &err), CORE_OK);
    const struct pg_migration textual[] = {{"10_a.sql", "SELECT 1"}, {"9_b.sql", "SELECT 1"}};
    assert_int_equal(pg_migrations_check(textual, 2, &err), CORE_ERR_INVALID);

    const struct pg_migration nonum[] = {{"create.sql", "SELECT 1"}};
    assert_int_equal(pg_migrations_check(nonum, 1, &err), CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "create.sql"));
    const struct pg_migration huge[] = {{"1234567890123456789_a.sql", "SELECT 1"}};
    assert_int_equal(pg_migrations_check(huge, 1, &err), CORE_ERR_INVALID);
    const struct pg_migration nosql[] = {{"001_a.sql", NULL}};
    assert_int_equal(pg_migrations_check(nosql, 1, &err), CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "no sql"));
    const struct pg_migration noname[] = {{NULL, "SELECT 1"}};
    assert_int_equal(pg_migrations_check(noname, 1, &err), CORE_ERR_INVALID);
    assert_int_equal(pg_migrations_check(NULL, 2, &err), CORE_ERR_INVALID);

    /* pg_migrate checks the list before it uses the pool, so a bad list never touches a server */
    int applied = 7;
    bool fresh = true;
    core_err_clear(&err);
    assert_int_equal(pg_migrate(NULL, down, 3, &applied, &fresh, &err), CORE_ERR_INVALID);
    assert_int_equal(applied, 0);
    assert_false(fresh);
    assert_non_null(strstr(err.msg, "002_c.sql"));
    assert_int_equal(pg_migrate(NULL, down, 3, NULL, NULL, NULL), CORE_ERR_INVALID);
}

static void sqlstates_map_to_statuses(void **state)
{
    (void)state;
    assert_int_equal(pg_status_from_sqlstate("23505"), CORE_ERR_CONFLICT);
    assert_int_equal(pg_status_from_sqlstate("40001"), CORE_ERR_CONFLICT);
    assert_int_equal(pg_status_from_sqlstate("40P01"), CORE_ERR_CONFLICT);
    assert_int_equal(pg_status_from_sqlstate("23502"), CORE_ERR_INVALID); /* not_null */
    assert_int_equal(pg_status_from_sqlstate("23503"), CORE_ERR_INVALID); /* foreign_key */
    assert_int_equal(pg_status_from_sqlstate("23514"), CORE_ERR_INVALID); /* check */
    assert_int_equal(pg_status_from_sqlstate("22P02"), CORE_ERR_INVALID); /* bad text repr. */
    assert_int_equal(pg_status_from_sqlstate("22001"), CORE_ERR_INVALID); /* too long */
    assert_int_equal(pg_status_from_sqlstate("08006"), CORE_ERR_UNAVAILABLE);
    assert_int_equal(pg_status_from_sqlstate("57P01"), CORE_ERR_UNAVAILABLE);
    assert_int_equal(pg_status_from_sqlstate("42601"), CORE_ERR_IO); /* syntax */
    assert_int_equal(pg_status_from_sqlstate("42P01"), CORE_ERR_IO); /* undefined table */
    assert_int_equal(pg_status_from_sqlstate("40002"), CORE_ERR_IO);
    assert_int_equal(pg_status_from_sqlstate(NULL), CORE_ERR_IO);
    assert_int_equal(pg_status_from_sqlstate("235"), CORE_ERR_IO);
}

static void get_returns_empty_for_null(void **state)
{
    (void)state;
    PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    assert_non_null(res);
    PGresAttDesc cols[2] = {
        {.name = "a", .format = 0, .typid = 25, .typlen = -1, .atttypmod = -1},
        {.name = "b", .format = 0, .typid = 25, .typlen = -1, .atttypmod = -1},
    };
    assert_true(PQsetResultAttrs(res, 2, cols));
    assert_true(PQsetvalue(res, 0, 0, "it's", 4));
    assert_true(PQsetvalue(res, 0, 1, NULL, -1)); /* SQL NULL */
    assert_true(PQsetvalue(res, 1, 0, "", 0));    /* empty string */
    assert_true(PQsetvalue(res, 1, 1, "x", 1));

    assert_string_equal(pg_get(res, 0, 0), "it's");
    assert_string_equal(pg_get(res, 0, 1), "");
    assert_true(PQgetisnull(res, 0, 1));
    assert_string_equal(pg_get(res, 1, 0), "");
    assert_false(PQgetisnull(res, 1, 0));
    assert_string_equal(pg_get(res, 1, 1), "x");
    /* out of range and no result: "" rather than NULL */
    assert_string_equal(pg_get(res, 2, 0), "");
    assert_string_equal(pg_get(res, 0, 2), "");
    assert_string_equal(pg_get(res, -1, 0), "");
    assert_string_equal(pg_get(NULL, 0, 0), "");
    PQclear(res);
}

static void free_and_release_accept_null(void **state)
{
    (void)state;
    pg_pool_free(NULL);
    pg_release(NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unreachable_server_is_unavailable),
        cmocka_unit_test(bad_options_are_invalid),
        cmocka_unit_test(allocation_failures_leak_nothing),
        cmocka_unit_test(migration_list_is_checked),
        cmocka_unit_test(sqlstates_map_to_statuses),
        cmocka_unit_test(get_returns_empty_for_null),
        cmocka_unit_test(free_and_release_accept_null),
    };
    return cmocka_run_group_tests_name("pg", tests, NULL, NULL);
}
