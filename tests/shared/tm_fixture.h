/* tm_fixture.h -- the world the core's transactional-messaging tests (it_tm.c, it_sec_tm.c) run
 * in: a scratch database with the test's tables and a tm schema (outbox, inbox), a nats-server of
 * their own, a pool, a JetStream stream, an empty message registry and the schema's outbox.
 *
 * Ownership: tm_fx_open fills *fx (zeroed by the caller), tm_fx_close frees what it holds; a test
 * frees its own additions (relays, sagas) first. Not thread-safe: one per test. */
#ifndef TM_FIXTURE_H
#define TM_FIXTURE_H

#include "am.h"
#include "e2e.h"
#include "es.h"
#include "natsd.h"
#include "pg.h"
#include "tm.h"

struct tm_fx {
    struct e2e_scratch scratch;
    struct natsd srv;
    pg_pool *pool;
    am_stream *js;
    es_registry *reg;
    tm_outbox *ob;
};

struct tm_fx_opts {
    const char *name;       /* the test's name: scratch database, nats-server, connection */
    const char *schema;     /* the tm schema (outbox, inbox), also the stream's name */
    const char *tables_sql; /* the test's own tables, run before the schema's DDL */
    int pool_size;
    int window_ms; /* the stream's duplicate window (0: the default) */
};

/* Opens the stream named o->schema on fx's nats-server (also for a test that reopens it). */
core_status tm_fx_stream(struct tm_fx *fx, const struct tm_fx_opts *o, am_stream **out,
                         core_err *err);

/* 0, or -1 after printing why on stderr (what was opened is closed again). */
int tm_fx_open(struct tm_fx *fx, const struct tm_fx_opts *o);

/* The return value of e2e_scratch_close (0 when the database was dropped). */
int tm_fx_close(struct tm_fx *fx);

#endif
