/* search/domain.c -- see search/domain.h. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/domain.h"

int search_status_rank(const char *status)
{
    static const char *const order[] = {SEARCH_STATUS_NEW, SEARCH_STATUS_READY,
                                        SEARCH_STATUS_CANCELED, SEARCH_STATUS_COMPLETED};
    for (int i = 0; status && i < 4; i++)
        if (strcmp(status, order[i]) == 0)
            return i;
    return -1;
}

void search_order_init(struct search_order *o)
{
    memset(o, 0, sizeof *o);
}

static void item_release(struct search_item *it)
{
    core_free(it->product_id);
    core_free(it->store_id);
    core_free(it->product_name);
    core_free(it->store_name);
}

void search_order_release(struct search_order *o)
{
    if (!o)
        return;
    core_free(o->order_id);
    core_free(o->customer_id);
    core_free(o->customer_name);
    core_free(o->status);
    for (size_t i = 0; i < o->nitems; i++)
        item_release(&o->items[i]);
    core_free(o->items);
    search_order_init(o);
}

/* Replaces *field with a copy of s (NULL = ""); false when out of memory (*field unchanged). */
static bool set_copy(char **field, const char *s)
{
    char *c = core_strdup(s ? s : "");
    if (!c)
        return false;
    core_free(*field);
    *field = c;
    return true;
}

core_status search_order_set(struct search_order *o, const char *order_id, const char *customer_id,
                             const char *customer_name, const char *status, core_err *err)
{
    if (!set_copy(&o->order_id, order_id) || !set_copy(&o->customer_id, customer_id) ||
        !set_copy(&o->customer_name, customer_name) || !set_copy(&o->status, status))
        return core_err_nomem(err);
    return CORE_OK;
}

core_status search_order_add_item(struct search_order *o, const char *product_id,
                                  const char *store_id, const char *product_name,
                                  const char *store_name, double price, int quantity, core_err *err)
{
    if (core_array_grow(&o->items, &o->cap, o->nitems + 1, sizeof *o->items))
        return core_err_nomem(err);
    struct search_item it = {0};
    if (!set_copy(&it.product_id, product_id) || !set_copy(&it.store_id, store_id) ||
        !set_copy(&it.product_name, product_name) || !set_copy(&it.store_name, store_name)) {
        item_release(&it);
        return core_err_nomem(err);
    }
    it.price = price;
    it.quantity = quantity;
    o->items[o->nitems++] = it;
    return CORE_OK;
}

core_status search_order_list_add(struct search_order_list *l, struct search_order **out,
                                  core_err *err)
{
    if (core_array_grow(&l->items, &l->cap, l->n + 1, sizeof *l->items))
        return core_err_nomem(err);
    *out = &l->items[l->n++];
    search_order_init(*out);
    return CORE_OK;
}

void search_order_list_release(struct search_order_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        search_order_release(&l->items[i]);
    core_free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}

/* ---- filters ------------------------------------------------------------------------------ */

static core_status check_ids(const char *name, const char *const *ids, size_t n, core_err *err)
{
    if (n > SEARCH_FILTER_IDS_MAX)
        return core_err_set(err, CORE_ERR_INVALID, "filters.%s has more than %d ids", name,
                            SEARCH_FILTER_IDS_MAX);
    for (size_t i = 0; i < n; i++) {
        if (core_str_blank(ids[i]))
            return core_err_set(err, CORE_ERR_INVALID, "filters.%s[%zu] cannot be blank", name, i);
        if (strlen(ids[i]) > SEARCH_ID_MAX)
            return core_err_set(err, CORE_ERR_INVALID, "filters.%s[%zu] is too long", name, i);
    }
    return CORE_OK;
}

static core_status check_total(const char *name, double v, core_err *err)
{
    if (!isfinite(v))
        return core_err_set(err, CORE_ERR_INVALID, "filters.%s is not a number", name);
    if (v < 0)
        return core_err_set(err, CORE_ERR_INVALID, "filters.%s cannot be negative", name);
    return CORE_OK;
}

core_status search_filters_check(const struct search_filters *f, core_err *err)
{
    core_status st;
    if (f->customer_id && strlen(f->customer_id) > SEARCH_ID_MAX)
        return core_err_set(err, CORE_ERR_INVALID, "filters.customerId is too long");
    if ((st = check_ids("storeIds", f->store_ids, f->nstore_ids, err)) ||
        (st = check_ids("productIds", f->product_ids, f->nproduct_ids, err)) ||
        (st = check_total("minTotal", f->min_total, err)) ||
        (st = check_total("maxTotal", f->max_total, err)))
        return st;
    if (f->min_total > 0 && f->max_total > 0 && f->min_total > f->max_total)
        return core_err_set(err, CORE_ERR_INVALID,
                            "filters.minTotal is greater than filters.maxTotal");
    if (f->has_after && f->has_before && f->after_us >= f->before_us)
        return core_err_set(err, CORE_ERR_INVALID,
                            "filters.after is not earlier than filters.before");
    if (f->status && f->status[0] && search_status_rank(f->status) < 0)
        return core_err_set(err, CORE_ERR_INVALID,
                            "filters.status \"%.40s\" is not one of: " SEARCH_STATUS_NEW
                            ", " SEARCH_STATUS_READY ", " SEARCH_STATUS_CANCELED
                            ", " SEARCH_STATUS_COMPLETED,
                            f->status);
    return CORE_OK;
}

core_status search_limit_resolve(int32_t limit, int *out, core_err *err)
{
    if (limit < 0 || limit > SEARCH_LIMIT_MAX)
        return core_err_set(err, CORE_ERR_INVALID, "limit must be between 1 and %d (0 means %d)",
                            SEARCH_LIMIT_MAX, SEARCH_LIMIT_DEFAULT);
    *out = limit == 0 ? SEARCH_LIMIT_DEFAULT : limit;
    return CORE_OK;
}

/* ---- page token ----------------------------------------------------------------------------- */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Unpadded base64url of n bytes of in into out (room for 4 * ceil(n / 3) + 1 bytes). */
static void b64_encode(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        size_t left = n - i;
        if (left > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (left > 2)
            v |= in[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        if (left > 1)
            out[o++] = b64url[(v >> 6) & 63];
        if (left > 2)
            out[o++] = b64url[v & 63];
    }
    out[o] = '\0';
}

static int b64_value(char c)
{
    const char *p = c ? strchr(b64url, c) : NULL;
    return p ? (int)(p - b64url) : -1;
}

/* Decodes unpadded base64url text into out (size bytes, NUL-terminated; *len = bytes decoded);
 * false when the text is not base64url, has a length no encoder makes, or does not fit. */
static bool b64_decode(const char *in, char *out, size_t size, size_t *len)
{
    size_t n = strlen(in), o = 0;
    if (n % 4 == 1)
        return false;
    for (size_t i = 0; i < n; i += 4) {
        size_t chunk = n - i < 4 ? n - i : 4;
        uint32_t v = 0;
        for (size_t k = 0; k < 4; k++) {
            int d = k < chunk ? b64_value(in[i + k]) : 0;
            if (d < 0)
                return false;
            v = v << 6 | (uint32_t)d;
        }
        size_t bytes = chunk - 1; /* 4 chars -> 3 bytes, 3 -> 2, 2 -> 1 */
        if (o + bytes >= size)
            return false;
        for (size_t k = 0; k < bytes; k++)
            out[o++] = (char)(v >> (16 - 8 * k));
    }
    out[o] = '\0';
    *len = o;
    return true;
}

core_status search_cursor_encode(const struct search_cursor *c, char out[SEARCH_TOKEN_MAX],
                                 core_err *err)
{
    char plain[96];
    size_t idlen = strnlen(c->order_id, sizeof c->order_id);
    if (idlen == 0 || idlen > SEARCH_ID_MAX)
        return core_err_set(err, CORE_ERR_INTERNAL, "a page token needs an order id");
    int n = snprintf(plain, sizeof plain, "1.%" PRId64 ".%s", c->created_us, c->order_id);
    if (n < 0 || (size_t)n >= sizeof plain || ((size_t)n + 2) / 3 * 4 >= SEARCH_TOKEN_MAX)
        return core_err_set(err, CORE_ERR_INTERNAL, "a page token does not fit");
    b64_encode((const unsigned char *)plain, (size_t)n, out);
    return CORE_OK;
}

core_status search_cursor_decode(const char *token, struct search_cursor *out, core_err *err)
{
    char plain[96];
    size_t len = 0;
    if (!token || strlen(token) >= SEARCH_TOKEN_MAX ||
        !b64_decode(token, plain, sizeof plain, &len) || strlen(plain) != len ||
        strncmp(plain, "1.", 2) != 0)
        goto bad;
    const char *num = plain + 2;
    char *end = NULL;
    if (!(*num == '-' || (*num >= '0' && *num <= '9')))
        goto bad;
    errno = 0;
    long long us = strtoll(num, &end, 10);
    if (errno || end == num || *end != '.')
        goto bad;
    const char *id = end + 1;
    if (core_str_blank(id) || !core_strlcpy(out->order_id, id, sizeof out->order_id))
        goto bad;
    out->created_us = us;
    return CORE_OK;
bad:
    return core_err_set(err, CORE_ERR_INVALID, "next is not a page token of this search");
}
