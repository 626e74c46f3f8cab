/* postgres.c -- the order repository on table ordering.orders (the book's
 * ordering/internal/postgres/order_repository.go).
 *
 * The items are stored as a UTF-8 JSON document in the bytea column `items`:
 *     [{"store_id":"...","product_id":"...","store_name":"...","product_name":"...",
 *       "price":9.99,"quantity":2}, ...]
 * written with convert_to($n, 'UTF8') and read with convert_from(items, 'UTF8').
 * Every statement is parameterized; each call borrows one pooled connection.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ordering/adapters.h"
#include "pbjson.h"

#define SQL_FIND                                                                                   \
    "SELECT customer_id, payment_id, shopping_id, invoice_id, "                                    \
    "convert_from(items, 'UTF8'), status FROM ordering.orders WHERE id = $1"
#define SQL_SAVE                                                                                   \
    "INSERT INTO ordering.orders "                                                                 \
    "(id, customer_id, payment_id, shopping_id, invoice_id, items, status) "                       \
    "VALUES ($1, $2, $3, $4, $5, convert_to($6, 'UTF8'), $7)"
#define SQL_UPDATE                                                                                 \
    "UPDATE ordering.orders SET customer_id = $2, payment_id = $3, shopping_id = $4, "             \
    "invoice_id = $5, items = convert_to($6, 'UTF8'), status = $7 WHERE id = $1"

/* The items as compact JSON text (*out core_malloc'd, caller frees with core_free). */
static core_status items_encode(const struct ordering_order *o, char **out, core_err *err)
{
    core_status st = CORE_OK;
    json_t *arr = json_array();
    if (!arr)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory encoding order items");
    for (size_t i = 0; i < o->nitems; i++) {
        const struct ordering_item *it = &o->items[i];
        json_error_t jerr;
        json_t *obj =
            json_pack_ex(&jerr, 0, "{s:s, s:s, s:s, s:s, s:f, s:i}", "store_id", it->store_id,
                         "product_id", it->product_id, "store_name", it->store_name, "product_name",
                         it->product_name, "price", it->price, "quantity", it->quantity);
        if (!obj) {
            st = core_err_set(err, CORE_ERR_INVALID, "order %s: cannot encode item %zu: %s", o->id,
                              i, jerr.text);
            goto done;
        }
        if (json_array_append_new(arr, obj)) {
            st = core_err_set(err, CORE_ERR_NOMEM, "out of memory encoding order items");
            goto done;
        }
    }
    st = pbjson_dump(arr, out, NULL, err);
done:
    json_decref(arr);
    return st;
}

/* Parses the stored items JSON into o's items. */
static core_status items_decode(const char *id, const char *text, struct ordering_order *o,
                                core_err *err)
{
    core_status st = CORE_OK;
    struct ordering_item *items = NULL;
    json_error_t jerr;
    json_t *arr = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!arr)
        return core_err_set(err, CORE_ERR_IO, "order %s: stored items are not valid JSON: %s", id,
                            jerr.text);
    if (!json_is_array(arr)) {
        st = core_err_set(err, CORE_ERR_IO, "order %s: stored items are not a JSON array", id);
        goto done;
    }
    size_t n = json_array_size(arr);
    if (n > 0 && !(items = core_calloc(n, sizeof *items))) {
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory decoding order items");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const char *store_id, *product_id, *store_name, *product_name;
        double price;
        json_int_t quantity;
        if (json_unpack_ex(json_array_get(arr, i), &jerr, JSON_STRICT,
                           "{s:s, s:s, s:s, s:s, s:F, s:I}", "store_id", &store_id, "product_id",
                           &product_id, "store_name", &store_name, "product_name", &product_name,
                           "price", &price, "quantity", &quantity)) {
            st = core_err_set(err, CORE_ERR_IO, "order %s: stored item %zu is malformed: %s", id, i,
                              jerr.text);
            goto done;
        }
        /* the strings stay borrowed from arr until set_items copied them */
        items[i].store_id = (char *)store_id;
        items[i].product_id = (char *)product_id;
        items[i].store_name = (char *)store_name;
        items[i].product_name = (char *)product_name;
        items[i].price = price;
        items[i].quantity = (int)quantity;
    }
    st = ordering_order_set_items(o, items, n, err);
done:
    core_free(items);
    json_decref(arr);
    return st;
}

static core_status copy_column(char dst[ORDERING_ID_SIZE], const PGresult *res, int col,
                               const char *id, core_err *err)
{
    if (!core_strlcpy(dst, pg_get(res, 0, col), ORDERING_ID_SIZE))
        return core_err_set(err, CORE_ERR_IO,
                            "order %s: stored column %s is longer than %d characters", id,
                            PQfname(res, col), ORDERING_ID_MAX);
    return CORE_OK;
}

static core_status find(void *self, const char *id, struct ordering_order *out, core_err *err)
{
    pg_pool *db = self;
    pg_conn *conn = NULL;
    PGresult *res = NULL;
    struct ordering_order order = ORDERING_ORDER_INIT;
    const char *params[] = {id};
    core_status st;

    if ((st = pg_acquire(db, &conn, err)))
        return st;
    if ((st = pg_exec(conn, SQL_FIND, 1, params, &res, err)))
        goto done;
    if (PQntuples(res) == 0) {
        st = core_err_set(err, CORE_ERR_NOT_FOUND, "order %s not found", id);
        goto done;
    }
    if (!core_strlcpy(order.id, id, sizeof order.id)) { /* never stored: ids are checked on save */
        st = core_err_set(err, CORE_ERR_NOT_FOUND, "order %s not found", id);
        goto done;
    }
    if ((st = copy_column(order.customer_id, res, 0, id, err)) ||
        (st = copy_column(order.payment_id, res, 1, id, err)) ||
        (st = copy_column(order.shopping_id, res, 2, id, err)) ||
        (st = copy_column(order.invoice_id, res, 3, id, err)) ||
        (st = items_decode(id, pg_get(res, 0, 4), &order, err)))
        goto done;
    order.status = ordering_status_parse(pg_get(res, 0, 5));
    ordering_order_release(out);
    *out = order;
    order = (struct ordering_order)ORDERING_ORDER_INIT;
done:
    ordering_order_release(&order);
    PQclear(res);
    pg_release(db, conn);
    return st;
}

/* Runs SQL_SAVE or SQL_UPDATE with the order's seven values; *affected gets the row count. */
static core_status write_order(pg_pool *db, const char *sql, const struct ordering_order *o,
                               long *affected, core_err *err)
{
    pg_conn *conn = NULL;
    PGresult *res = NULL;
    char *items = NULL;
    core_status st;

    if ((st = items_encode(o, &items, err)))
        return st;
    const char *params[] = {o->id,
                            o->customer_id,
                            o->payment_id,
                            o->shopping_id,
                            o->invoice_id,
                            items,
                            ordering_status_text(o->status)};
    if ((st = pg_acquire(db, &conn, err)))
        goto done;
    if ((st = pg_exec(conn, sql, 7, params, &res, err)))
        goto done;
    *affected = strtol(PQcmdTuples(res), NULL, 10);
done:
    PQclear(res);
    pg_release(db, conn);
    core_free(items);
    return st;
}

static core_status save(void *self, const struct ordering_order *order, core_err *err)
{
    long affected = 0;
    core_status st = write_order(self, SQL_SAVE, order, &affected, err);
    if (st == CORE_ERR_CONFLICT)
        return core_err_set(err, CORE_ERR_CONFLICT, "order %s already exists", order->id);
    return st;
}

static core_status update(void *self, const struct ordering_order *order, core_err *err)
{
    long affected = 0;
    core_status st = write_order(self, SQL_UPDATE, order, &affected, err);
    if (st == CORE_OK && affected == 0)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "order %s not found", order->id);
    return st;
}

void ordering__pg_orders(struct ordering_order_repo *out, pg_pool *db)
{
    out->self = db;
    out->find = find;
    out->save = save;
    out->update = update;
}
