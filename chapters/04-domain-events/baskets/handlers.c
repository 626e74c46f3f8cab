/* handlers.c -- see handlers.h. */
#include "baskets/domain_events.pb-c.h"
#include "baskets/handlers.h"

/* Rebuilds the checked-out basket the event describes into the INIT basket *b, for the ordering
 * port (which takes a basket, as it did in chapter 03). */
static core_status checked_out_basket(const ddd_event *event, struct baskets_basket *b,
                                      core_err *err)
{
    const char *id = ddd_event_metadata(event, "aggregate-id");
    if (!ddd_event_payload_is(event, &baskets__domain__basket_checked_out__descriptor))
        return core_err_set(err, CORE_ERR_INTERNAL, "event %s %s has no BasketCheckedOut payload",
                            ddd_event_name(event), ddd_event_id(event));
    const Baskets__Domain__BasketCheckedOut *m = (const void *)ddd_event_payload(event);
    if (core_str_blank(id) || !core_strlcpy(b->id, id, sizeof b->id) ||
        !core_strlcpy(b->customer_id, m->customer_id, sizeof b->customer_id) ||
        !core_strlcpy(b->payment_id, m->payment_id, sizeof b->payment_id))
        return core_err_set(err, CORE_ERR_INTERNAL,
                            "event %s %s has a missing or too long basket, customer or "
                            "payment id",
                            ddd_event_name(event), ddd_event_id(event));
    b->status = BASKETS_STATUS_CHECKED_OUT;
    for (size_t i = 0; i < m->n_items; i++) {
        const Baskets__Domain__Item *it = m->items[i];
        const struct baskets_item line = {it->store_id,     it->product_id,    it->store_name,
                                          it->product_name, it->product_price, it->quantity};
        core_status st = baskets_basket_push_item(b, &line, err); /* copies the strings */
        if (st)
            return st;
    }
    return CORE_OK;
}

/* "baskets.BasketCheckedOut": ordering.CreateOrder for the basket. */
static core_status on_basket_checked_out(void *ud, const ddd_event *event, core_err *err)
{
    struct baskets_order_handlers *h = ud;
    struct baskets_basket b = BASKETS_BASKET_INIT;
    core_status st;
    if ((st = checked_out_basket(event, &b, err)) == CORE_OK)
        st = h->ordering.create_order(h->ordering.self, &b, err);
    baskets_basket_release(&b);
    return st;
}

core_status baskets_register_order_handlers(ddd_dispatcher *d, struct baskets_order_handlers *h,
                                            core_err *err)
{
    return ddd_dispatcher_subscribe(d, BASKETS_BASKET_CHECKED_OUT, "baskets.OrderHandlers",
                                    on_basket_checked_out, h, err);
}
