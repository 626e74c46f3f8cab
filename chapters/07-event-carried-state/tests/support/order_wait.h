/* order_wait.h -- test support (chapter 07): wait, bounded, until an order reaches a state that
 * another module's reaction to a message brings about.
 *
 * Since chapter 07 the invoice of a ready order is created by payments when ordersapi.OrderReadied
 * reaches it, and the order completes when paymentsapi.InvoicePaid reaches ordering: both happen
 * after the request that caused them has answered. An e2e test that used to read the result at
 * once polls for it instead. No timing is asserted: the limit only keeps a broken flow from
 * hanging the test.
 *
 * Layer: test support (the chapter's tests/support/, linked into every test of the chapter).
 */
#ifndef ORDER_WAIT_H
#define ORDER_WAIT_H

#include <stdbool.h>

#include "e2e.h"

/* The longest wait for a message's effect: generous for a sanitizer build on a busy machine. */
#define ORDER_WAIT_MS 20000

/* Polls GET /api/ordering/{id} every 50 ms, at most ORDER_WAIT_MS, until order.status is status
 * and, when with_invoice, order.invoiceId is not empty. Returns that body (a new reference:
 * json_decref it), or NULL on timeout (the last body seen is printed on stderr). */
json_t *order_wait(e2e_app *app, const char *id, const char *status, bool with_invoice);

/* Polls the SQL (one parameter, may be NULL) every 50 ms, at most ORDER_WAIT_MS, until its value
 * is want. Returns false on timeout (the last value seen is printed on stderr). */
bool order_wait_sql(e2e_app *app, const char *want, const char *sql, const char *param);

#endif /* ORDER_WAIT_H */
