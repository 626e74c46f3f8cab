/* tm_fixture.c -- see tm_fixture.h. */
#include <stdio.h>

#include "tm_fixture.h"

#define WAIT_MS 10000

core_status tm_fx_stream(struct tm_fx *fx, const struct tm_fx_opts *o, am_stream **out,
                         core_err *err)
{
    struct am_js_opts js = AM_JS_OPTS_INIT;
    js.url = fx->srv.url;
    js.stream = o->schema;
    js.name = o->name;
    js.duplicate_window_ms = o->window_ms;
    js.publish_timeout_ms = 2000;
    return am_js_stream_new(out, &js, err);
}

int tm_fx_close(struct tm_fx *fx)
{
    tm_outbox_free(fx->ob);
    am_stream_free(fx->js);
    pg_pool_free(fx->pool);
    es_registry_free(fx->reg);
    natsd_release(&fx->srv);
    return e2e_scratch_close(&fx->scratch);
}

int tm_fx_open(struct tm_fx *fx, const struct tm_fx_opts *o)
{
    if (e2e_scratch_open(&fx->scratch, o->name) != 0)
        return -1;
    if (natsd_init(&fx->srv, o->name) != 0 || natsd_start(&fx->srv) != 0 ||
        !natsd_wait_ready(&fx->srv, WAIT_MS)) {
        fprintf(stderr, "%s: no nats-server\n", o->name);
        tm_fx_close(fx);
        return -1;
    }
    core_err err = CORE_ERR_INIT;
    core_status st;
    char *ddl = NULL;
    struct pg_pool_opts po = {.conninfo = fx->scratch.db.conninfo, .size = o->pool_size};
    pg_conn *c = NULL;
    if (!(st = pg_pool_new(&fx->pool, &po, &err)) && !(st = pg_acquire(fx->pool, &c, &err))) {
        st = pg_exec_script(c, o->tables_sql, &err);
        if (!st && !(st = tm_schema_sql(o->schema, &ddl, &err)))
            st = pg_exec_script(c, ddl, &err);
        core_free(ddl);
        pg_release(fx->pool, c);
    }
    if (!st)
        st = tm_fx_stream(fx, o, &fx->js, &err);
    if (!st)
        st = es_registry_new(&fx->reg, &err);
    if (!st)
        st = tm_outbox_new(&fx->ob, fx->pool, o->schema, o->schema, &err);
    if (st) {
        fprintf(stderr, "%s: setting up: %s\n", o->name, err.msg);
        tm_fx_close(fx);
        return -1;
    }
    return 0;
}
