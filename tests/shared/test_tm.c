/* test_tm.c -- unit tests of tm.h and of am_stream_publish_batch() that need no server: schema
 * names, the tables' DDL, option checks, and the batch publish over the in-memory stream (which
 * has no batch operation, so the core publishes one message after the other).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "am.h"
#include "core.h"
#include "log.h"
#include "tm.h"

static void schema_names_are_checked(void **state)
{
    (void)state;
    assert_true(tm_schema_valid("stores"));
    assert_true(tm_schema_valid("_x9_"));
    assert_false(tm_schema_valid(NULL));
    assert_false(tm_schema_valid(""));
    assert_false(tm_schema_valid("9stores"));
    assert_false(tm_schema_valid("Stores"));
    assert_false(tm_schema_valid("stores;drop"));
    assert_false(tm_schema_valid("st\"ores"));
    assert_false(tm_schema_valid("stores.outbox"));
    char longest[TM_SCHEMA_MAX + 2];
    memset(longest, 'a', sizeof longest);
    longest[TM_SCHEMA_MAX] = '\0';
    assert_true(tm_schema_valid(longest));
    longest[TM_SCHEMA_MAX] = 'a';
    longest[TM_SCHEMA_MAX + 1] = '\0';
    assert_false(tm_schema_valid(longest));
}

static void the_ddl_names_the_schema(void **state)
{
    (void)state;
    long live = core_alloc_live();
    core_err err = CORE_ERR_INIT;
    char *sql = NULL;
    assert_int_equal(tm_schema_sql("stores", &sql, &err), CORE_OK);
    assert_non_null(strstr(sql, "CREATE TABLE \"stores\".outbox ("));
    assert_non_null(strstr(sql, "seq bigint GENERATED ALWAYS AS IDENTITY"));
    assert_non_null(strstr(sql, "CREATE INDEX stores_unpublished_idx ON \"stores\".outbox (seq)"));
    assert_non_null(strstr(sql, "WHERE published_at IS NULL"));
    assert_non_null(strstr(sql, "CREATE TABLE \"stores\".inbox ("));
    core_free(sql);
    sql = NULL;
    assert_int_equal(tm_schema_sql("x\"; DROP TABLE y; --", &sql, &err), CORE_ERR_INVALID);
    assert_null(sql);
    assert_int_equal(core_alloc_live(), live);
}

static void bad_names_and_options_are_refused(void **state)
{
    (void)state;
    long live = core_alloc_live();
    core_err err = CORE_ERR_INIT;
    tm_outbox *ob = NULL;
    pg_pool *no_pool = NULL; /* never reached: the names are checked first */
    assert_int_equal(tm_outbox_new(&ob, no_pool, "Stores", "mallbots", &err), CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "Stores"));
    assert_int_equal(tm_outbox_new(&ob, no_pool, "stores", "mall.bots", &err), CORE_ERR_INVALID);
    assert_null(ob);

    tm_relay *r = NULL;
    const char *good[] = {"stores", NULL}, *bad[] = {"stores", "Bad", NULL}, *none[] = {NULL};
    struct tm_relay_opts o = TM_RELAY_OPTS_INIT;
    assert_int_equal(tm_relay_new(&r, &o, &err), CORE_ERR_INVALID);
    o.pool = (pg_pool *)&o; /* not used before the options pass */
    o.stream = (am_stream *)&o;
    o.conninfo = "dbname=x";
    o.schemas = none;
    assert_int_equal(tm_relay_new(&r, &o, &err), CORE_ERR_INVALID);
    o.schemas = bad;
    assert_int_equal(tm_relay_new(&r, &o, &err), CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "Bad"));
    o.schemas = good;
    o.batch = -1;
    assert_int_equal(tm_relay_new(&r, &o, &err), CORE_ERR_INVALID);
    assert_null(r);
    tm_relay_free(NULL);
    tm_rollback(NULL);
    tm_outbox_free(NULL);
    assert_int_equal(core_alloc_live(), live);
}

struct got {
    int n;
    char ids[8][40];
};

static core_status collect(void *ud, const struct am_stored_msg *m, core_err *err)
{
    struct got *g = ud;
    if (g->n < 8)
        core_strlcpy(g->ids[g->n++], m->msg_id ? m->msg_id : "", sizeof g->ids[0]);
    return CORE_OK;
}

/* A batch over the memory stream: each message as am_stream_publish would; a refused one and an
 * unavailable one fail alone; a repeated id is acknowledged as a duplicate. */
static void a_batch_reports_each_message(void **state)
{
    (void)state;
    long live = core_alloc_live();
    core_err err = CORE_ERR_INIT;
    am_mem_broker *b = NULL;
    am_stream *s = NULL;
    assert_int_equal(am_mem_broker_new(&b, &err), CORE_OK);
    assert_int_equal(am_mem_stream_new(&s, b, "mb", &err), CORE_OK);
    const unsigned char data[] = {1, 2, 3};
    struct am_batch_msg msgs[5] = {
        {"mb.a", "m1", "n", data, 3},      {"other.a", "m2", "n", data, 3},
        {"mb.a", "m3", "n", NULL, 0},      {"mb.a", "m1", "n", data, 3},
        {"mb.dead.g", "m4", "n", data, 3},
    };
    struct am_batch_ack acks[5];
    assert_int_equal(am_stream_publish_batch(s, msgs, 5, acks, &err), CORE_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "2 of 5 messages were not published"));
    assert_int_equal(acks[0].status, CORE_OK);
    assert_int_equal(acks[0].seq, 1);
    assert_false(acks[0].duplicate);
    assert_int_equal(acks[1].status, CORE_ERR_INTERNAL); /* outside the stream */
    assert_int_equal(acks[2].status, CORE_OK);
    assert_int_equal(acks[2].seq, 2);
    assert_int_equal(acks[3].status, CORE_OK);
    assert_true(acks[3].duplicate);
    assert_int_equal(acks[3].seq, 1);
    assert_int_equal(acks[4].status, CORE_ERR_INTERNAL); /* reserved for dead letters */

    am_mem_broker_fail(b, AM_MEM_FAIL_PUBLISH, 1);
    struct am_batch_msg two[2] = {{"mb.b", "m5", "n", data, 3}, {"mb.b", "m6", "n", data, 3}};
    assert_int_equal(am_stream_publish_batch(s, two, 2, acks, &err), CORE_ERR_UNAVAILABLE);
    assert_int_equal(acks[0].status, CORE_ERR_UNAVAILABLE);
    assert_int_equal(acks[1].status, CORE_OK);
    assert_int_equal(am_stream_publish_batch(s, two, 0, acks, &err), CORE_OK);

    struct got g = {0, {{0}}};
    assert_int_equal(am_stream_read(s, NULL, 1, collect, &g, &err), CORE_OK);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.ids[0], "m1");
    assert_string_equal(g.ids[1], "m3");
    assert_string_equal(g.ids[2], "m6");
    am_stream_free(s);
    am_mem_broker_free(b);
    assert_int_equal(core_alloc_live(), live);
}

int main(void)
{
    log_init(LOG_LEVEL_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schema_names_are_checked),
        cmocka_unit_test(the_ddl_names_the_schema),
        cmocka_unit_test(bad_names_and_options_are_refused),
        cmocka_unit_test(a_batch_reports_each_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
