/* search/postgres.c -- the read model on PostgreSQL (see search/adapters.h and the port's
 * contract in search/application.h).
 *
 * Tables search.orders and search.order_items (migrations/011_search.sql). Every value travels
 * as a query parameter. The search query's text is put together from constant pieces, one per
 * filter that is set, each with its own $n placeholder (the values never enter the text), so
 * each combination of filters is one prepared statement per connection (pg.h).
 *
 * Times travel as integers (microseconds since the epoch): in as
 * TIMESTAMPTZ 'epoch' + $n::bigint * INTERVAL '1 microsecond', out as
 * (extract(epoch FROM created_at) * 1000000)::bigint; both exact. Money travels as text with 4
 * decimals (numeric(14,4) columns). Id lists travel as text[] literals.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/adapters.h"

#define US_TO_TS(n) "(TIMESTAMPTZ 'epoch' + $" n "::bigint * INTERVAL '1 microsecond')"
#define TS_TO_US "(extract(epoch FROM created_at) * 1000000)::bigint"

/* A text[] literal of n strings: {"a","b"} with " and \ escaped. Sticky failure in b. */
static void add_array(struct core_buf *b, const char *const *items, size_t n)
{
    core_buf_add_str(b, "{");
    for (size_t i = 0; i < n; i++) {
        core_buf_add_str(b, i ? ",\"" : "\"");
        for (const char *p = items[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                core_buf_add_str(b, "\\");
            core_buf_add(b, p, 1);
        }
        core_buf_add_str(b, "\"");
    }
    core_buf_add_str(b, "}");
}

static char *array_text(const char *const *items, size_t n)
{
    struct core_buf b = CORE_BUF_INIT;
    add_array(&b, items, n);
    return core_buf_detach(&b, NULL);
}

static void money_text(char out[48], double v)
{
    snprintf(out, 48, "%.4f", v);
}

/* ---- save_created ---------------------------------------------------------------------------- */

struct created_ctx {
    const struct search_order *o;
};

static core_status created_tx(pg_conn *conn, void *ctx, core_err *err)
{
    const struct search_order *o = ((struct created_ctx *)ctx)->o;
    const char **pids = NULL, **sids = NULL;
    char *pid_text = NULL, *sid_text = NULL, total[48], us[24];
    core_status st = CORE_OK;
    if (o->nitems && (!(pids = core_calloc(o->nitems, sizeof *pids)) ||
                      !(sids = core_calloc(o->nitems, sizeof *sids)))) {
        st = core_err_nomem(err);
        goto done;
    }
    for (size_t i = 0; i < o->nitems; i++) {
        pids[i] = o->items[i].product_id;
        sids[i] = o->items[i].store_id;
    }
    if (!(pid_text = array_text(pids, o->nitems)) || !(sid_text = array_text(sids, o->nitems))) {
        st = core_err_nomem(err);
        goto done;
    }
    money_text(total, o->total);
    snprintf(us, sizeof us, "%" PRId64, o->created_us);
    const char *params[] = {
        o->order_id, o->customer_id, o->customer_name, total, pid_text, sid_text, us};
    if ((st = pg_exec(
             conn,
             "INSERT INTO search.orders (order_id, customer_id, customer_name, total, "
             "status, product_ids, store_ids, created_at) VALUES ($1, $2, $3, "
             "$4::numeric, 'New', $5::text[], $6::text[], " US_TO_TS(
                 "7") ") "
                      "ON CONFLICT (order_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, "
                      "customer_name = EXCLUDED.customer_name, total = EXCLUDED.total, "
                      "product_ids = EXCLUDED.product_ids, store_ids = EXCLUDED.store_ids, "
                      "created_at = EXCLUDED.created_at",
             7, params, NULL, err)))
        goto done;
    const char *del[] = {o->order_id};
    if ((st = pg_exec(conn, "DELETE FROM search.order_items WHERE order_id = $1", 1, del, NULL,
                      err)))
        goto done;
    for (size_t i = 0; i < o->nitems && !st; i++) {
        const struct search_item *it = &o->items[i];
        char pos[24], price[48], qty[24];
        snprintf(pos, sizeof pos, "%zu", i);
        money_text(price, it->price);
        snprintf(qty, sizeof qty, "%d", it->quantity);
        const char *ip[] = {
            o->order_id, pos, it->product_id, it->store_id, it->product_name, it->store_name,
            price,       qty};
        st = pg_exec(conn,
                     "INSERT INTO search.order_items (order_id, position, product_id, store_id, "
                     "product_name, store_name, price, quantity) VALUES ($1, $2::int, $3, $4, $5, "
                     "$6, $7::numeric, $8::int)",
                     8, ip, NULL, err);
    }
done:
    core_free(pids);
    core_free(sids);
    core_free(pid_text);
    core_free(sid_text);
    return st;
}

static core_status save_created(void *self, const struct search_order *o, core_err *err)
{
    struct created_ctx ctx = {o};
    return pg_with_tx(self, created_tx, &ctx, err);
}

/* chapter 09: on a unit's connection, already in its transaction (self = the pg_conn) */
static core_status save_created_in(void *self, const struct search_order *o, core_err *err)
{
    struct created_ctx ctx = {o};
    return created_tx(self, &ctx, err);
}

/* ---- save_status ------------------------------------------------------------------------------
 */

static const char SQL_SAVE_STATUS[] =
    "INSERT INTO search.orders (order_id, status, total) VALUES ($1, $2, "
    "COALESCE($3::numeric, 0)) ON CONFLICT (order_id) DO UPDATE SET status = CASE "
    "WHEN search.status_rank(EXCLUDED.status) >= "
    "search.status_rank(search.orders.status) THEN EXCLUDED.status ELSE "
    "search.orders.status END, total = CASE WHEN $3::numeric IS NULL THEN "
    "search.orders.total ELSE EXCLUDED.total END";

/* On pool, or on conn when it is not NULL (a unit's transaction). */
static core_status save_status_on(pg_pool *pool, pg_conn *conn, const char *order_id,
                                  const char *status, bool has_total, double total, core_err *err)
{
    char money[48];
    money_text(money, total);
    const char *params[] = {order_id, status, has_total ? money : NULL};
    return conn ? pg_exec(conn, SQL_SAVE_STATUS, 3, params, NULL, err)
                : pg_run(pool, SQL_SAVE_STATUS, 3, params, NULL, err);
}

static core_status save_status_in(void *self, const char *order_id, const char *status,
                                  bool has_total, double total, core_err *err)
{
    return save_status_on(NULL, self, order_id, status, has_total, total, err);
}

static core_status save_status(void *self, const char *order_id, const char *status, bool has_total,
                               double total, core_err *err)
{
    return save_status_on(self, NULL, order_id, status, has_total, total, err);
}

/* ---- reading ----------------------------------------------------------------------------------
 */

/* Fills o from row r of an orders query (order_id, customer_id, customer_name, total, status,
 * created_us). */
static core_status order_from_row(struct search_order *o, const PGresult *res, int r, core_err *err)
{
    core_status st = search_order_set(o, pg_get(res, r, 0), pg_get(res, r, 1), pg_get(res, r, 2),
                                      pg_get(res, r, 4), err);
    o->total = strtod(pg_get(res, r, 3), NULL);
    o->created_us = strtoll(pg_get(res, r, 5), NULL, 10);
    return st;
}

/* Adds row r of an items query (product_id, store_id, product_name, store_name, price, quantity
 * from column first on) to o. */
static core_status item_from_row(struct search_order *o, const PGresult *res, int r, int first,
                                 core_err *err)
{
    return search_order_add_item(o, pg_get(res, r, first), pg_get(res, r, first + 1),
                                 pg_get(res, r, first + 2), pg_get(res, r, first + 3),
                                 strtod(pg_get(res, r, first + 4), NULL),
                                 (int)strtol(pg_get(res, r, first + 5), NULL, 10), err);
}

static core_status find(void *self, const char *order_id, struct search_order *out, core_err *err)
{
    const char *params[] = {order_id};
    PGresult *res = NULL;
    core_status st = pg_run(self,
                            "SELECT order_id, customer_id, customer_name, total, status, " TS_TO_US
                            " FROM search.orders WHERE order_id = $1 AND created_at IS NOT NULL",
                            1, params, &res, err);
    if (st)
        return st;
    if (PQntuples(res) == 0)
        st = core_err_set(err, CORE_ERR_NOT_FOUND, "order %s not found", order_id);
    else
        st = order_from_row(out, res, 0, err);
    PQclear(res);
    res = NULL;
    if (!st)
        st = pg_run(self,
                    "SELECT product_id, store_id, product_name, store_name, price, quantity FROM "
                    "search.order_items WHERE order_id = $1 ORDER BY position",
                    1, params, &res, err);
    for (int r = 0; !st && r < PQntuples(res); r++)
        st = item_from_row(out, res, r, 0, err);
    PQclear(res);
    return st;
}

/* The query of a search: SQL text and its parameters (owned copies). */
struct query {
    struct core_buf sql;
    char *params[16];
    int n;
};

/* Appends the next placeholder ($n) to the text and a copy of value to the parameters. */
static void add_param(struct query *q, const char *value)
{
    char num[16];
    snprintf(num, sizeof num, "$%d", q->n + 1);
    core_buf_add_str(&q->sql, num);
    q->params[q->n] = core_strdup(value);
    if (!q->params[q->n++])
        q->sql.failed = true;
}

/* Appends " AND <before>$n<after>", $n standing for value. */
static void add_cond(struct query *q, const char *before, const char *value, const char *after)
{
    core_buf_add_str(&q->sql, " AND ");
    core_buf_add_str(&q->sql, before);
    add_param(q, value);
    core_buf_add_str(&q->sql, after);
}

/* Appends the time us as a timestamptz expression of the next parameter. */
static void add_time(struct query *q, int64_t us)
{
    char text[24];
    snprintf(text, sizeof text, "%" PRId64, us);
    core_buf_add_str(&q->sql, "(TIMESTAMPTZ 'epoch' + ");
    add_param(q, text);
    core_buf_add_str(&q->sql, "::bigint * INTERVAL '1 microsecond')");
}

static void add_ids(struct query *q, const char *column, const char *const *ids, size_t n)
{
    char *text = array_text(ids, n);
    char before[48];
    snprintf(before, sizeof before, "%s && ", column);
    if (!text)
        q->sql.failed = true;
    else
        add_cond(q, before, text, "::text[]");
    core_free(text);
}

static void build_query(struct query *q, const struct search_filters *f,
                        const struct search_cursor *after, int limit)
{
    char money[48], num[16];
    core_buf_add_str(&q->sql,
                     "SELECT order_id, customer_id, customer_name, total, status, " TS_TO_US
                     " FROM search.orders WHERE created_at IS NOT NULL");
    if (f->customer_id && f->customer_id[0])
        add_cond(q, "customer_id = ", f->customer_id, "");
    if (f->has_after) {
        core_buf_add_str(&q->sql, " AND created_at > ");
        add_time(q, f->after_us);
    }
    if (f->has_before) {
        core_buf_add_str(&q->sql, " AND created_at < ");
        add_time(q, f->before_us);
    }
    if (f->nstore_ids)
        add_ids(q, "store_ids", f->store_ids, f->nstore_ids);
    if (f->nproduct_ids)
        add_ids(q, "product_ids", f->product_ids, f->nproduct_ids);
    if (f->min_total > 0) {
        money_text(money, f->min_total);
        add_cond(q, "total >= ", money, "::numeric");
    }
    if (f->max_total > 0) {
        money_text(money, f->max_total);
        add_cond(q, "total <= ", money, "::numeric");
    }
    if (f->status && f->status[0])
        add_cond(q, "status = ", f->status, "");
    if (after) { /* keyset paging: strictly after the previous page's last order */
        core_buf_add_str(&q->sql, " AND (created_at, order_id) < (");
        add_time(q, after->created_us);
        core_buf_add_str(&q->sql, ", ");
        add_param(q, after->order_id);
        core_buf_add_str(&q->sql, ")");
    }
    snprintf(num, sizeof num, "%d", limit);
    core_buf_add_str(&q->sql, " ORDER BY created_at DESC, order_id DESC LIMIT ");
    add_param(q, num);
    core_buf_add_str(&q->sql, "::int");
}

static core_status search(void *self, const struct search_filters *f,
                          const struct search_cursor *after, int limit,
                          struct search_order_list *out, core_err *err)
{
    struct query q = {CORE_BUF_INIT, {0}, 0};
    PGresult *res = NULL;
    char **ids = NULL, *ids_text = NULL;
    core_status st;
    build_query(&q, f, after, limit);
    if (q.sql.failed) {
        st = core_err_nomem(err);
        goto done;
    }
    if ((st = pg_run(self, core_buf_str(&q.sql), q.n, (const char *const *)q.params, &res, err)))
        goto done;
    int rows = PQntuples(res);
    if (rows > 0 && !(ids = core_calloc((size_t)rows, sizeof *ids))) {
        st = core_err_nomem(err);
        goto done;
    }
    for (int r = 0; r < rows && !st; r++) {
        struct search_order *o = NULL;
        if (!(st = search_order_list_add(out, &o, err)))
            st = order_from_row(o, res, r, err);
        ids[r] = o ? o->order_id : NULL;
    }
    PQclear(res);
    res = NULL;
    if (st || rows == 0)
        goto done;
    if (!(ids_text = array_text((const char *const *)ids, (size_t)rows))) {
        st = core_err_nomem(err);
        goto done;
    }
    const char *params[] = {ids_text};
    if ((st = pg_run(self,
                     "SELECT order_id, product_id, store_id, product_name, store_name, price, "
                     "quantity FROM search.order_items WHERE order_id = ANY($1::text[]) ORDER BY "
                     "order_id, position",
                     1, params, &res, err)))
        goto done;
    for (int r = 0, n = PQntuples(res); r < n && !st; r++) {
        const char *id = pg_get(res, r, 0);
        for (size_t i = 0; i < out->n; i++)
            if (strcmp(out->items[i].order_id, id) == 0) {
                st = item_from_row(&out->items[i], res, r, 1, err);
                break;
            }
    }
done:
    PQclear(res);
    core_free(ids);
    core_free(ids_text);
    for (int i = 0; i < q.n; i++)
        core_free(q.params[i]);
    core_buf_release(&q.sql);
    return st;
}

void search__pg_orders(struct search_orders_repo *out, pg_pool *db)
{
    out->self = db;
    out->save_created = save_created;
    out->save_status = save_status;
    out->find = find;
    out->search = search;
}

void search__pg_orders_in(struct search_orders_repo *out, pg_conn *tx)
{
    out->self = tx;
    out->save_created = save_created_in;
    out->save_status = save_status_in;
    out->find = NULL; /* a unit only writes */
    out->search = NULL;
}
