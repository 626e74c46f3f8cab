/* search/rpc_server.c -- searchpb.SearchService over the search application (see
 * search/adapters.h).
 *
 * SearchOrders turns the request's filters into struct search_filters (times to microseconds,
 * truncating nanoseconds; a time outside a Timestamp's range, which only a binary request can
 * carry, is CORE_ERR_INVALID "filters.after is not a valid time") and the orders into
 * Searchpb__Order heap trees (pb.h); GetOrder the same for one order. Errors of the application
 * pass through unchanged (CORE_ERR_INVALID naming the filter -> 400, CORE_ERR_NOT_FOUND -> 404).
 */
#include "search/adapters.h"

#include "pb.h"
#include "search/api.pb-c.h"

/* The times a Timestamp may hold (0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z), as
 * the JSON mapping accepts them; binary requests on the RPC port can carry anything. */
#define TS_MIN_SECONDS (-62135596800LL)
#define TS_MAX_SECONDS 253402300799LL

/* t in microseconds since the epoch (nanoseconds truncated) into *us; CORE_ERR_INVALID naming
 * the filter when t is out of a Timestamp's range. */
static core_status to_us(const Google__Protobuf__Timestamp *t, const char *name, int64_t *us,
                         core_err *err)
{
    if (t->seconds < TS_MIN_SECONDS || t->seconds > TS_MAX_SECONDS || t->nanos < 0 ||
        t->nanos > 999999999)
        return core_err_set(err, CORE_ERR_INVALID, "filters.%s is not a valid time", name);
    *us = (int64_t)t->seconds * 1000000 + t->nanos / 1000;
    return CORE_OK;
}

/* The order as a new Searchpb__Order heap tree; NULL when out of memory. */
static Searchpb__Order *order_to_pb(const struct search_order *o)
{
    Searchpb__Order *pb = pb_new_of(searchpb__order);
    if (!pb)
        return NULL;
    if (pb_set_string(&pb->order_id, o->order_id, NULL) ||
        pb_set_string(&pb->customer_id, o->customer_id, NULL) ||
        pb_set_string(&pb->customer_name, o->customer_name, NULL) ||
        pb_set_string(&pb->status, o->status, NULL) ||
        !(pb->created_at = pb_new_of(google__protobuf__timestamp)))
        goto fail;
    pb->total = o->total;
    int64_t sec = o->created_us / 1000000, us = o->created_us % 1000000;
    if (us < 0) { /* before 1970: nanos stay positive */
        sec--;
        us += 1000000;
    }
    pb->created_at->seconds = sec;
    pb->created_at->nanos = (int32_t)(us * 1000);
    if (o->nitems > 0 && !(pb->items = core_calloc(o->nitems, sizeof *pb->items)))
        goto fail;
    for (size_t i = 0; i < o->nitems; i++) {
        const struct search_item *it = &o->items[i];
        Searchpb__Item *item = pb_new_of(searchpb__item);
        if (!item)
            goto fail;
        pb->items[pb->n_items++] = item; /* counted at once, so pb_free() releases it on failure */
        item->price = it->price;
        item->quantity = it->quantity;
        if (pb_set_string(&item->product_id, it->product_id, NULL) ||
            pb_set_string(&item->store_id, it->store_id, NULL) ||
            pb_set_string(&item->product_name, it->product_name, NULL) ||
            pb_set_string(&item->store_name, it->store_name, NULL))
            goto fail;
    }
    return pb;
fail:
    pb_free(&pb->base);
    return NULL;
}

static core_status get_order(void *ud, const ProtobufCMessage *msg, ProtobufCMessage **out,
                             core_err *err)
{
    const Searchpb__GetOrderRequest *req = (const Searchpb__GetOrderRequest *)msg;
    struct search_order order = SEARCH_ORDER_INIT;
    Searchpb__GetOrderResponse *resp = NULL;
    core_status st = search_app_get_order(ud, req->id, &order, err);
    if (!st) {
        if (!(resp = pb_new_of(searchpb__get_order_response)) ||
            !(resp->order = order_to_pb(&order)))
            st = core_err_nomem(err);
        else {
            *out = &resp->base;
            resp = NULL;
        }
    }
    pb_free(resp ? &resp->base : NULL);
    search_order_release(&order);
    return st;
}

static core_status search_orders(void *ud, const ProtobufCMessage *msg, ProtobufCMessage **out,
                                 core_err *err)
{
    const Searchpb__SearchOrdersRequest *req = (const Searchpb__SearchOrdersRequest *)msg;
    const Searchpb__SearchOrdersRequest__Filters *rf = req->filters;
    struct search_filters f = {0};
    struct search_order_list orders = SEARCH_ORDER_LIST_INIT;
    Searchpb__SearchOrdersResponse *resp = NULL;
    char next[SEARCH_TOKEN_MAX];
    core_status st;

    if (rf) {
        f.customer_id = rf->customer_id;
        if ((f.has_after = rf->after != NULL) && (st = to_us(rf->after, "after", &f.after_us, err)))
            return st;
        if ((f.has_before = rf->before != NULL) &&
            (st = to_us(rf->before, "before", &f.before_us, err)))
            return st;
        f.store_ids = (const char *const *)rf->store_ids;
        f.nstore_ids = rf->n_store_ids;
        f.product_ids = (const char *const *)rf->product_ids;
        f.nproduct_ids = rf->n_product_ids;
        f.min_total = rf->min_total;
        f.max_total = rf->max_total;
        f.status = rf->status;
    }
    if ((st = search_app_search_orders(ud, &f, req->next, req->limit, &orders, next, err)))
        goto done;
    if (!(resp = pb_new_of(searchpb__search_orders_response)) ||
        pb_set_string(&resp->next, next, NULL) ||
        (orders.n && !(resp->orders = core_calloc(orders.n, sizeof *resp->orders)))) {
        st = core_err_nomem(err);
        goto done;
    }
    for (size_t i = 0; i < orders.n; i++) {
        if (!(resp->orders[i] = order_to_pb(&orders.items[i]))) {
            st = core_err_nomem(err);
            goto done;
        }
        resp->n_orders++;
    }
    *out = &resp->base;
    resp = NULL;
done:
    pb_free(resp ? &resp->base : NULL);
    search_order_list_release(&orders);
    return st;
}

static const struct rpc_method methods[] = {
    {"SearchOrders", search_orders},
    {"GetOrder", get_order},
};

core_status search__rpc_register(rpc_registry *reg, struct search_app *app, core_err *err)
{
    return rpc_registry_add(reg, &searchpb__search_service__descriptor, methods,
                            sizeof methods / sizeof methods[0], app, err);
}
