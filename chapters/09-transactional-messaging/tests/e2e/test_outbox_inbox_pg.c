/* test_outbox_inbox_pg.c -- integration tests (chapter 09): the outbox and inbox tables of
 * migrations/014_outbox_inbox.sql, read back from the catalog of the lab's real PostgreSQL. One
 * scratch database for the file, migrated with the chapter's migrations.
 *
 * Checked: the database has exactly the nine module schemas; each has an outbox and an inbox
 * with the columns, types, nullability, identity and primary key of the migration; each
 * <schema>_unpublished_idx is the partial index on (seq) of its OWN schema's outbox (the book
 * creates cosec's on baskets.outbox) and there is no other; an outbox numbers its rows in
 * insertion order and refuses a second row with a message id it has, and so does an inbox. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "e2e.h"
#include "monolith/monolith.h"
#include "pg.h"

static const char *const schemas[] = {"baskets",  "cosec",    "customers", "depot", "notifications",
                                      "ordering", "payments", "search",    "stores"};
#define NSCHEMAS (sizeof schemas / sizeof schemas[0])

static struct e2e_scratch scratch = E2E_SCRATCH_INIT;
static pg_pool *db;

static int group_setup(void **state)
{
    (void)state;
    if (e2e_scratch_open(&scratch, "tmtables"))
        return -1;
    core_err err = CORE_ERR_INIT;
    struct pg_pool_opts o = {scratch.db.conninfo, 2, 0};
    if (pg_pool_new(&db, &o, &err) ||
        pg_migrate(db, chapter_migrations, chapter_migration_count, NULL, NULL, &err)) {
        fprintf(stderr, "tmtables: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    pg_pool_free(db);
    db = NULL;
    return e2e_scratch_close(&scratch);
}

/* The first column of the first row of sql (at most two text parameters, NULL = fewer) into out
 * ("" when there is no row). Fails the test when the statement fails. */
static const char *sql1(char *out, size_t size, const char *sql, const char *p1, const char *p2)
{
    PGresult *res = NULL;
    core_err err = CORE_ERR_INIT;
    const char *p[] = {p1, p2};
    if (pg_run(db, sql, p2 ? 2 : p1 ? 1 : 0, p, &res, &err) != CORE_OK)
        fail_msg("%s: %s", sql, err.msg);
    snprintf(out, size, "%s", PQntuples(res) && !PQgetisnull(res, 0, 0) ? pg_get(res, 0, 0) : "");
    PQclear(res);
    return out;
}

#define ROW(sql, p1, p2) sql1((char[1024]){0}, 1024, (sql), (p1), (p2))

static void the_database_has_the_nine_module_schemas(void **state)
{
    (void)state;
    assert_string_equal(ROW("SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace "
                            "WHERE nspname NOT IN ('public', 'information_schema') "
                            "AND nspname NOT LIKE 'pg\\_%'",
                            NULL, NULL),
                        "baskets,cosec,customers,depot,notifications,ordering,payments,search,"
                        "stores");
}

/* "name type nullable identity" of every column of schema.table, in column order. */
#define COLUMNS                                                                                    \
    "SELECT string_agg(column_name || ' ' || data_type || ' ' || is_nullable || ' ' || "           \
    "is_identity, ', ' ORDER BY ordinal_position) FROM information_schema.columns "                \
    "WHERE table_schema = $1 AND table_name = $2"
/* the columns of schema.table's primary key */
#define PRIMARY_KEY                                                                                \
    "SELECT string_agg(a.attname, ',') FROM pg_index i JOIN pg_attribute a "                       \
    "ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) "                                    \
    "WHERE i.indisprimary AND i.indrelid = to_regclass($1 || '.' || $2)"

static void every_schema_has_an_outbox_and_an_inbox(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSCHEMAS; i++) {
        const char *s = schemas[i];
        const char *outbox = ROW(COLUMNS, s, "outbox");
        if (strcmp(outbox, "seq bigint NO YES, id text NO NO, name text NO NO, subject text NO NO, "
                           "data bytea NO NO, created_at timestamp with time zone NO NO, "
                           "published_at timestamp with time zone YES NO") != 0)
            fail_msg("%s.outbox has the columns \"%s\"", s, outbox);
        const char *inbox = ROW(COLUMNS, s, "inbox");
        if (strcmp(inbox, "id text NO NO, name text NO NO, subject text NO NO, data bytea NO NO, "
                          "received_at timestamp with time zone NO NO") != 0)
            fail_msg("%s.inbox has the columns \"%s\"", s, inbox);
        const char *key = ROW(PRIMARY_KEY, s, "outbox");
        if (strcmp(key, "id") != 0)
            fail_msg("%s.outbox has the primary key \"%s\"", s, key);
        key = ROW(PRIMARY_KEY, s, "inbox");
        if (strcmp(key, "id") != 0)
            fail_msg("%s.inbox has the primary key \"%s\"", s, key);
    }
}

static void every_unpublished_index_is_on_its_own_outbox(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSCHEMAS; i++) {
        const char *s = schemas[i];
        char name[64], want[256];
        snprintf(name, sizeof name, "%s_unpublished_idx", s);
        snprintf(want, sizeof want,
                 "CREATE INDEX %s ON %s.outbox USING btree (seq) WHERE (published_at IS NULL)",
                 name, s);
        /* index names are unique per schema only: look in every schema */
        const char *n = ROW("SELECT count(*) FROM pg_indexes WHERE indexname = $1", name, NULL);
        if (strcmp(n, "1") != 0)
            fail_msg("%s: %s indexes of that name", name, n);
        const char *def = ROW("SELECT schemaname || '.' || tablename || ': ' || indexdef "
                              "FROM pg_indexes WHERE indexname = $1",
                              name, NULL);
        char where[64];
        snprintf(where, sizeof where, "%s.outbox: ", s);
        if (strncmp(def, where, strlen(where)) != 0 || strcmp(def + strlen(where), want) != 0)
            fail_msg("%s is \"%s\", not on %s.outbox as \"%s\"", name, def, s, want);
    }
    assert_string_equal(
        ROW("SELECT count(*) FROM pg_indexes WHERE indexname LIKE '%\\_unpublished\\_idx'", NULL,
            NULL),
        "9");
}

/* Runs sql (schema.table already in it) with a message id; returns the status. */
static core_status insert(const char *sql, const char *id, core_err *err)
{
    const char *p[] = {id};
    PGresult *res = NULL;
    core_status st = pg_run(db, sql, 1, p, &res, err);
    PQclear(res);
    return st;
}

static void rows_are_numbered_and_ids_are_unique(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSCHEMAS; i++) {
        const char *s = schemas[i];
        char out_sql[256], in_sql[256], seq_sql[128];
        snprintf(out_sql, sizeof out_sql,
                 "INSERT INTO %s.outbox (id, name, subject, data) "
                 "VALUES ($1, 'x.Happened', 'mallbots.x.events.X', '\\x00')",
                 s);
        snprintf(in_sql, sizeof in_sql,
                 "INSERT INTO %s.inbox (id, name, subject, data) "
                 "VALUES ($1, 'x.Happened', 'mallbots.x.events.X', '\\x00')",
                 s);
        snprintf(
            seq_sql, sizeof seq_sql,
            "SELECT string_agg(id, ',' ORDER BY seq) FROM %s.outbox WHERE published_at IS NULL", s);
        core_err err = CORE_ERR_INIT;
        assert_int_equal(insert(out_sql, "m2", &err), CORE_OK);
        assert_int_equal(insert(out_sql, "m1", &err), CORE_OK);
        assert_string_equal(ROW(seq_sql, NULL, NULL), "m2,m1"); /* insertion order, not id order */
        assert_int_equal(insert(out_sql, "m1", &err), CORE_ERR_CONFLICT);
        assert_int_equal(insert(in_sql, "m1", &err), CORE_OK);
        assert_int_equal(insert(in_sql, "m1", &err), CORE_ERR_CONFLICT);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_database_has_the_nine_module_schemas),
        cmocka_unit_test(every_schema_has_an_outbox_and_an_inbox),
        cmocka_unit_test(every_unpublished_index_is_on_its_own_outbox),
        cmocka_unit_test(rows_are_numbered_and_ids_are_unique),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
