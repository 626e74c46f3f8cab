/* depot/handlers.c -- see handlers.h. */
#include "depot/domain_events.pb-c.h"
#include "depot/handlers.h"

static core_status on_shopping_list_completed(void *ud, const ddd_event *ev, core_err *err)
{
    struct depot_order_handlers *h = ud;
    core_status st = CORE_OK;
    if (!ddd_event_payload_is(ev, &depot__domain__shopping_list_completed__descriptor)) {
        st = core_err_set(err, CORE_ERR_INTERNAL, "event %s carries no %s payload",
                          ddd_event_name(ev),
                          depot__domain__shopping_list_completed__descriptor.name);
    } else {
        const Depot__Domain__ShoppingListCompleted *p = (const void *)ddd_event_payload(ev);
        if (core_str_blank(p->order_id))
            st = core_err_set(err, CORE_ERR_INTERNAL, "event %s carries no order id",
                              ddd_event_name(ev));
        else if ((st = h->orders.ready(h->orders.self, p->order_id, err)))
            core_err_wrap(err, "readying order %s", p->order_id);
    }
    return st;
}

core_status depot_register_order_handlers(ddd_dispatcher *d, struct depot_order_handlers *h,
                                          core_err *err)
{
    return ddd_dispatcher_subscribe(d, DEPOT_SHOPPING_LIST_COMPLETED, "depot.OrderHandlers",
                                    on_shopping_list_completed, h, err);
}
