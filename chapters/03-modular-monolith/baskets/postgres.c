/* postgres.c -- the baskets repository on PostgreSQL (table baskets.baskets). See adapters.h.
 *
 * The items column is bytea; it holds the UTF-8 bytes of the items' JSON. The text travels as an
 * ordinary text parameter and the server converts it: convert_to($n, 'UTF8') on the way in,
 * convert_from(items, 'UTF8') on the way out, so no bytea escaping happens in C.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "baskets/adapters.h"

static const char SQL_FIND[] = "SELECT customer_id, payment_id, convert_from(items, 'UTF8'), "
                               "status FROM baskets.baskets WHERE id = $1";
static const char SQL_SAVE[] =
    "INSERT INTO baskets.baskets (id, customer_id, payment_id, items, status) "
    "VALUES ($1, $2, $3, convert_to($4, 'UTF8'), $5)";
static const char SQL_UPDATE[] =
    "UPDATE baskets.baskets SET customer_id = $2, payment_id = $3, items = convert_to($4, 'UTF8'), "
    "status = $5 WHERE id = $1";

/* ---- items JSON ---------------------------------------------------------------------------- */

static json_t *item_to_json(const struct baskets_item *it)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:f, s:i}", "store_id", it->store_id, "product_id",
                     it->product_id, "store_name", it->store_name, "product_name", it->product_name,
                     "product_price", it->product_price, "quantity", it->quantity);
}

core_status baskets__items_encode(const struct baskets_basket *b, char **out, core_err *err)
{
    core_status st = CORE_OK;
    char *buf = NULL;
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < b->nitems; i++) {
        if (json_array_append_new(arr, item_to_json(&b->items[i])) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    size_t len = arr ? json_dumpb(arr, NULL, 0, JSON_COMPACT) : 0;
    if (len > 0 && (buf = core_malloc(len + 1)) != NULL) {
        json_dumpb(arr, buf, len, JSON_COMPACT);
        buf[len] = '\0';
        *out = buf;
    } else {
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory encoding the items of basket %s",
                          b->id);
    }
    json_decref(arr);
    return st;
}

/* One line from its JSON object; the strings of *it are borrowed from obj. */
static core_status item_from_json(json_t *obj, size_t index, struct baskets_item *it, core_err *err)
{
    json_error_t jerr;
    json_int_t quantity = 0;
    double price = 0;
    json_t *price_json = NULL;
    if (json_unpack_ex(obj, &jerr, JSON_STRICT, "{s:s, s:s, s:s, s:s, s:o, s:I}", "store_id",
                       &it->store_id, "product_id", &it->product_id, "store_name", &it->store_name,
                       "product_name", &it->product_name, "product_price", &price_json, "quantity",
                       &quantity) != 0)
        return core_err_set(err, CORE_ERR_INVALID, "item %zu: %s", index, jerr.text);
    if (!json_is_number(price_json))
        return core_err_set(err, CORE_ERR_INVALID, "item %zu: product_price is not a number",
                            index);
    price = json_number_value(price_json);
    if (quantity < 1 || quantity > INT32_MAX)
        return core_err_set(err, CORE_ERR_INVALID, "item %zu: quantity %lld out of range", index,
                            (long long)quantity);
    it->product_price = price;
    it->quantity = (int)quantity;
    return CORE_OK;
}

core_status baskets__items_decode(struct baskets_basket *b, const char *json, core_err *err)
{
    core_status st = CORE_OK;
    json_error_t jerr;
    struct baskets_basket tmp = BASKETS_BASKET_INIT; /* the lines decoded so far */
    assert(b->nitems == 0);
    json_t *arr = json_loads(json ? json : "", JSON_REJECT_DUPLICATES, &jerr);
    if (!arr)
        return core_err_set(err, CORE_ERR_INVALID, "items are not JSON: %s (line %d column %d)",
                            jerr.text, jerr.line, jerr.column);
    if (!json_is_array(arr))
        st = core_err_set(err, CORE_ERR_INVALID, "items are not a JSON array");
    for (size_t i = 0; st == CORE_OK && i < json_array_size(arr); i++) {
        struct baskets_item it = {0};
        if ((st = item_from_json(json_array_get(arr, i), i, &it, err)) == CORE_OK)
            st = baskets_basket_push_item(&tmp, &it, err);
    }
    json_decref(arr);
    if (st == CORE_OK) { /* hand tmp's lines over to b */
        core_free(b->items);
        b->items = tmp.items;
        b->nitems = tmp.nitems;
        b->cap = tmp.cap;
        tmp.items = NULL;
        tmp.nitems = tmp.cap = 0;
    }
    baskets_basket_release(&tmp);
    return st;
}

/* ---- repository ---------------------------------------------------------------------------- */

static core_status find(void *self, const char *id, struct baskets_basket *out, core_err *err)
{
    pg_pool *db = self;
    pg_conn *conn = NULL;
    PGresult *res = NULL;
    const char *params[] = {id};
    enum baskets_status status;
    core_status st = pg_acquire(db, &conn, err);
    if (st)
        return st;
    baskets_basket_init(out);
    if ((st = pg_exec(conn, SQL_FIND, 1, params, &res, err)))
        goto done;
    if (PQntuples(res) == 0) {
        st = core_err_set(err, CORE_ERR_NOT_FOUND, "basket %s not found", id);
        goto done;
    }
    if (!baskets_status_parse(pg_get(res, 0, 3), &status)) {
        st = core_err_set(err, CORE_ERR_IO, "basket %s has an unknown status \"%s\"", id,
                          pg_get(res, 0, 3));
        goto done;
    }
    if (!core_strlcpy(out->id, id, sizeof out->id) ||
        !core_strlcpy(out->customer_id, pg_get(res, 0, 0), sizeof out->customer_id) ||
        !core_strlcpy(out->payment_id, pg_get(res, 0, 1), sizeof out->payment_id)) {
        st = core_err_set(err, CORE_ERR_IO, "basket %s has an id longer than %d characters", id,
                          BASKETS_ID_MAX);
        goto done;
    }
    out->status = status;
    if ((st = baskets__items_decode(out, pg_get(res, 0, 2), err))) {
        if (st == CORE_ERR_INVALID) /* bad stored data is our fault, not the caller's */
            st = CORE_ERR_IO;
        core_err_wrap(err, "basket %s has unreadable items", id);
        if (err)
            err->status = st;
    }

done:
    PQclear(res);
    pg_release(db, conn);
    if (st)
        baskets_basket_release(out);
    return st;
}

/* INSERT (update false) or UPDATE (update true) of basket b. */
static core_status write_basket(pg_pool *db, const struct baskets_basket *b, bool update,
                                core_err *err)
{
    pg_conn *conn = NULL;
    PGresult *res = NULL;
    char *items = NULL;
    core_status st = baskets__items_encode(b, &items, err);
    if (st)
        return st;
    if ((st = pg_acquire(db, &conn, err)))
        goto done;
    const char *params[] = {b->id, b->customer_id, b->payment_id, items,
                            baskets_status_text(b->status)};
    st = pg_exec(conn, update ? SQL_UPDATE : SQL_SAVE, 5, params, &res, err);
    if (st == CORE_ERR_CONFLICT && !update)
        st = core_err_set(err, CORE_ERR_CONFLICT, "basket %s already exists", b->id);
    else if (st == CORE_OK && update && strcmp(PQcmdTuples(res), "0") == 0)
        st = core_err_set(err, CORE_ERR_NOT_FOUND, "basket %s not found", b->id);

done:
    PQclear(res);
    pg_release(db, conn);
    core_free(items);
    return st;
}

static core_status save(void *self, const struct baskets_basket *b, core_err *err)
{
    return write_basket(self, b, false, err);
}

static core_status update(void *self, const struct baskets_basket *b, core_err *err)
{
    return write_basket(self, b, true, err);
}

void baskets__pg_repo(struct baskets_repo *out, pg_pool *db)
{
    out->self = db;
    out->find = find;
    out->save = save;
    out->update = update;
}
