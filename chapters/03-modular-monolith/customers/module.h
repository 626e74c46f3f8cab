/* customers/module.h -- the customers module: registered kiosk customers and whether they may
 * place orders (part of the book's "Kiosk Ordering" context).
 *
 * Layer: module (composition). This is the module's ONLY public header; main() starts it through
 * customers_module. Everything else under customers/ is private to the module and its tests.
 *
 * Calls: no other module. Called by: ordering (AuthorizeCustomer before accepting an order) and
 * notifications (GetCustomer for the name and SMS number), over RPC.
 * Table: customers.customers (id, name, sms_number, enabled) -- migrations/003_customers.sql.
 * RPC: customerspb.CustomersService, every method of proto/customers/api.proto
 * (AuthorizeCustomer is RPC-only).
 * REST routes (the book's):
 *     POST /api/customers               RegisterCustomer {name, smsNumber} -> {id}
 *     GET  /api/customers/{id}          GetCustomer      -> {customer:{id, name, smsNumber,
 * enabled}} PUT  /api/customers/{id}/enable   EnableCustomer   -> {} PUT
 * /api/customers/{id}/disable  DisableCustomer  -> {}
 *
 * Thread-safety: startup/shutdown from main's thread; the running module serves requests from
 * any number of threads.
 */
#ifndef CUSTOMERS_MODULE_H
#define CUSTOMERS_MODULE_H

#include "monolith/monolith.h"

extern const struct module customers_module;

#endif /* CUSTOMERS_MODULE_H */
