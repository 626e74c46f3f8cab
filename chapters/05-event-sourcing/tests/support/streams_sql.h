/* streams_sql.h -- chapter 05's end-to-end tests: SQL that reads the state of a basket or an
 * order from its event stream.
 *
 * Chapter 05 makes baskets and orders event-sourced: the tables baskets.baskets and
 * ordering.orders are dropped and an aggregate's state is the sum of its events in
 * baskets.events / ordering.events (payloads as jsonb, keys in lowerCamelCase). Where chapter
 * 03's e2e tests read a column of those tables, the chapter-05 copies read the same fact from the
 * events with these queries ($1 = the basket's or the order's id; one value, or no row):
 *
 *   SQL_BASKET_STATUS    "open" | "cancelled" | "checked_out": the last status-changing event
 *                        (BasketCheckoutRejected reopens: "open")
 *   SQL_BASKET_CUSTOMER  the customer id of BasketStarted
 *   SQL_BASKET_PAYMENT   the payment id of the last BasketCheckedOut
 *   SQL_BASKET_EVENTS    the basket's events as "1:baskets.BasketStarted,2:..." (any change of the
 *                        basket adds an event, so equal texts mean an unchanged basket)
 *   SQL_ORDER_STATUS     "pending" | "cancelled" | "ready" | "completed"
 *   SQL_ORDER_SHOPPING   the shopping list id of OrderCreated
 *   SQL_ORDER_INVOICE    the invoice id of the last OrderInvoiced or OrderCompleted
 *   SQL_ORDER_EXISTS     "1" when the order has events, "0" when not
 *   SQL_ORDERS           (no parameter) the number of orders
 *
 * Header only (string literals); include after e2e.h.
 */
#ifndef STREAMS_SQL_H
#define STREAMS_SQL_H

#define SQL_BASKET_STATUS                                                                          \
    "select case event_name when 'baskets.BasketStarted' then 'open' "                             \
    "when 'baskets.BasketCanceled' then 'cancelled' "                                              \
    "when 'baskets.BasketCheckedOut' then 'checked_out' "                                          \
    "when 'baskets.BasketCheckoutRejected' then 'open' end "                                       \
    "from baskets.events where stream_id = $1 and event_name in ('baskets.BasketStarted', "        \
    "'baskets.BasketCanceled', 'baskets.BasketCheckedOut', 'baskets.BasketCheckoutRejected') "     \
    "order by stream_version desc limit 1"

#define SQL_BASKET_CUSTOMER                                                                        \
    "select event_data->>'customerId' from baskets.events "                                        \
    "where stream_id = $1 and event_name = 'baskets.BasketStarted'"

#define SQL_BASKET_PAYMENT                                                                         \
    "select event_data->>'paymentId' from baskets.events "                                         \
    "where stream_id = $1 and event_name = 'baskets.BasketCheckedOut' "                            \
    "order by stream_version desc limit 1"

#define SQL_BASKET_EVENTS                                                                          \
    "select string_agg(stream_version || ':' || event_name, ',' order by stream_version) "         \
    "from baskets.events where stream_id = $1"

#define SQL_ORDER_STATUS                                                                           \
    "select case event_name when 'ordering.OrderCreated' then 'pending' "                          \
    "when 'ordering.OrderCanceled' then 'cancelled' when 'ordering.OrderReadied' then 'ready' "    \
    "when 'ordering.OrderCompleted' then 'completed' end "                                         \
    "from ordering.events where stream_id = $1 and event_name <> 'ordering.OrderInvoiced' "        \
    "order by stream_version desc limit 1"

#define SQL_ORDER_SHOPPING                                                                         \
    "select event_data->>'shoppingId' from ordering.events "                                       \
    "where stream_id = $1 and event_name = 'ordering.OrderCreated'"

#define SQL_ORDER_INVOICE                                                                          \
    "select event_data->>'invoiceId' from ordering.events where stream_id = $1 "                   \
    "and event_name in ('ordering.OrderInvoiced', 'ordering.OrderCompleted') "                     \
    "order by stream_version desc limit 1"

#define SQL_ORDER_EXISTS "select least(count(*), 1) from ordering.events where stream_id = $1"

#define SQL_ORDERS "select count(distinct stream_id) from ordering.events"

#endif /* STREAMS_SQL_H */
