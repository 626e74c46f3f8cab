/* depot/postgres.c -- the shopping-list repository on PostgreSQL (table depot.shopping_lists)
 * and the JSON form of the stops column. See adapters.h.
 *
 * The stops column is bytea holding the UTF-8 bytes of the stops' JSON. The text travels as an
 * ordinary text parameter and the server converts it: convert_to($n, 'UTF8') on the way in,
 * convert_from(stops, 'UTF8') on the way out, so no bytea escaping happens in C.
 */
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include <jansson.h>

#include "depot/adapters.h"

static const char SQL_FIND[] =
    "SELECT order_id, convert_from(stops, 'UTF8'), assigned_bot_id, status "
    "FROM depot.shopping_lists WHERE id = $1";
static const char SQL_SAVE[] =
    "INSERT INTO depot.shopping_lists (id, order_id, stops, assigned_bot_id, status) "
    "VALUES ($1, $2, convert_to($3, 'UTF8'), $4, $5)";
static const char SQL_UPDATE[] = "UPDATE depot.shopping_lists SET stops = convert_to($2, 'UTF8'), "
                                 "assigned_bot_id = $3, status = $4 WHERE id = $1";

/* ---- stops JSON ------------------------------------------------------------------------------ */

/* json_object_set_new() steals value even when it fails, so a NULL value is just a failure. */
static json_t *item_to_json(const struct depot_item *it)
{
    json_t *obj = json_object();
    if (obj && (json_object_set_new(obj, "name", json_string(it->product_name)) ||
                json_object_set_new(obj, "quantity", json_integer(it->quantity)))) {
        json_decref(obj);
        obj = NULL;
    }
    return obj;
}

static json_t *stop_to_json(const struct depot_stop *stop)
{
    json_t *items = json_object();
    for (size_t i = 0; items && i < stop->nitems; i++) {
        if (json_object_set_new(items, stop->items[i].product_id, item_to_json(&stop->items[i]))) {
            json_decref(items);
            items = NULL;
        }
    }
    json_t *obj = items ? json_object() : NULL;
    bool ok = obj && !json_object_set_new(obj, "store_name", json_string(stop->store_name)) &&
              !json_object_set_new(obj, "store_location", json_string(stop->store_location));
    if (ok) {
        ok = !json_object_set_new(obj, "items", items);
        items = NULL; /* stolen, also on failure */
    }
    json_decref(items);
    if (!ok) {
        json_decref(obj);
        obj = NULL;
    }
    return obj;
}

core_status depot__stops_encode(const struct depot_shopping_list *l, char **out, core_err *err)
{
    *out = NULL;
    json_t *root = json_object();
    for (size_t i = 0; root && i < l->nstops; i++) {
        if (json_object_set_new(root, l->stops[i].store_id, stop_to_json(&l->stops[i]))) {
            json_decref(root);
            root = NULL;
        }
    }
    size_t len = root ? json_dumpb(root, NULL, 0, JSON_COMPACT) : 0;
    char *buf = len > 0 ? core_malloc(len + 1) : NULL;
    if (buf) {
        json_dumpb(root, buf, len, JSON_COMPACT);
        buf[len] = '\0';
        *out = buf;
    }
    json_decref(root);
    if (!buf) /* jansson reports out of memory and invalid UTF-8 alike, as NULL */
        return core_err_set(
            err, CORE_ERR_NOMEM,
            "cannot encode the stops of shopping list %s (out of memory or invalid UTF-8)", l->id);
    return CORE_OK;
}

/* Adds the items of one stop object to l. Strings are borrowed from the JSON for the call. */
static core_status stop_from_json(struct depot_shopping_list *l, const char *store_id, json_t *obj,
                                  core_err *err)
{
    json_error_t jerr;
    const char *name = NULL, *location = NULL;
    json_t *items = NULL;
    if (json_unpack_ex(obj, &jerr, JSON_STRICT, "{s:s, s:s, s:o}", "store_name", &name,
                       "store_location", &location, "items", &items) != 0)
        return core_err_set(err, CORE_ERR_INVALID, "stop %s: %s", store_id, jerr.text);
    if (!json_is_object(items))
        return core_err_set(err, CORE_ERR_INVALID, "stop %s: items is not an object", store_id);
    /* the domain copies these strings; the casts only fit the owning structs' field types */
    struct depot_store store = {(char *)store_id, (char *)name, (char *)location};
    const char *product_id;
    json_t *item;
    core_status st = CORE_OK;
    json_object_foreach(items, product_id, item)
    {
        const char *product_name = NULL;
        json_int_t quantity = 0;
        if (json_unpack_ex(item, &jerr, JSON_STRICT, "{s:s, s:I}", "name", &product_name,
                           "quantity", &quantity))
            return core_err_set(err, CORE_ERR_INVALID, "stop %s, item %s: %s", store_id, product_id,
                                jerr.text);
        if (quantity < 1 || quantity > INT_MAX)
            return core_err_set(err, CORE_ERR_INVALID,
                                "stop %s, item %s: quantity %lld out of range", store_id,
                                product_id, (long long)quantity);
        struct depot_product product = {(char *)product_id, (char *)store_id, (char *)product_name};
        if ((st = depot_shopping_list_add_item(l, &store, &product, (int)quantity, err)))
            return st;
    }
    return st;
}

core_status depot__stops_decode(struct depot_shopping_list *l, const char *json, core_err *err)
{
    json_error_t jerr;
    core_status st = CORE_OK;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        st = core_err_set(err, CORE_ERR_INVALID, "stops JSON: %s (line %d column %d)", jerr.text,
                          jerr.line, jerr.column);
    } else if (!json_is_object(root)) {
        st = core_err_set(err, CORE_ERR_INVALID, "stops JSON: not an object");
    } else {
        const char *store_id;
        json_t *stop;
        json_object_foreach(root, store_id, stop)
        {
            if ((st = stop_from_json(l, store_id, stop, err)))
                break;
        }
    }
    json_decref(root);
    if (st) {
        /* keep the ids and status, drop the partly decoded stops */
        struct depot_shopping_list ids = *l;
        ids.stops = NULL;
        ids.nstops = 0;
        depot_shopping_list_release(l);
        *l = ids;
    }
    return st;
}

/* ---- repository ------------------------------------------------------------------------------ */

static core_status list_save(void *self, const struct depot_shopping_list *l, core_err *err)
{
    char *stops = NULL;
    core_status st = depot__stops_encode(l, &stops, err);
    if (!st) {
        const char *params[] = {l->id, l->order_id, stops, l->assigned_bot_id,
                                depot_list_status_text(l->status)};
        if ((st = pg_run(self, SQL_SAVE, 5, params, NULL, err)))
            core_err_wrap(err, "saving shopping list %s", l->id);
    }
    core_free(stops);
    return st;
}

static core_status list_find(void *self, const char *id, struct depot_shopping_list *out,
                             core_err *err)
{
    const char *params[] = {id};
    PGresult *res = NULL;
    core_status st = pg_run(self, SQL_FIND, 1, params, &res, err);
    if (st) {
        core_err_wrap(err, "finding shopping list %s", id);
    } else if (PQntuples(res) == 0) {
        st = core_err_set(err, CORE_ERR_NOT_FOUND, "shopping list %s not found", id);
    } else if (!core_strlcpy(out->id, id, sizeof out->id) ||
               !core_strlcpy(out->order_id, pg_get(res, 0, 0), sizeof out->order_id) ||
               !core_strlcpy(out->assigned_bot_id, pg_get(res, 0, 2),
                             sizeof out->assigned_bot_id)) {
        st = core_err_set(err, CORE_ERR_INTERNAL, "shopping list %s: stored id too long", id);
    } else if (!depot_list_status_parse(pg_get(res, 0, 3), &out->status)) {
        st = core_err_set(err, CORE_ERR_INTERNAL, "shopping list %s has an unknown status \"%s\"",
                          id, pg_get(res, 0, 3));
    } else if ((st = depot__stops_decode(out, pg_get(res, 0, 1), err))) {
        core_err_wrap(err, "reading shopping list %s", id);
        if (st ==
            CORE_ERR_INVALID) { /* stored data we cannot read is our fault, not the caller's */
            st = CORE_ERR_INTERNAL;
            if (err)
                err->status = st;
        }
    }
    PQclear(res);
    if (st)
        depot_shopping_list_release(out);
    return st;
}

static core_status list_update(void *self, const struct depot_shopping_list *l, core_err *err)
{
    char *stops = NULL;
    PGresult *res = NULL;
    core_status st = depot__stops_encode(l, &stops, err);
    if (!st) {
        const char *params[] = {l->id, stops, l->assigned_bot_id,
                                depot_list_status_text(l->status)};
        if ((st = pg_run(self, SQL_UPDATE, 4, params, &res, err)))
            core_err_wrap(err, "updating shopping list %s", l->id);
        else if (strcmp(PQcmdTuples(res), "0") == 0)
            st = core_err_set(err, CORE_ERR_NOT_FOUND, "shopping list %s not found", l->id);
    }
    PQclear(res);
    core_free(stops);
    return st;
}

void depot_postgres_lists(struct depot_list_repo *out, pg_pool *db)
{
    out->self = db;
    out->save = list_save;
    out->find = list_find;
    out->update = list_update;
}
