/* customers/application.h -- the customers module's commands and queries (the book's
 * application layer).
 *
 * Layer: application. Each function loads a customer through the repository PORT, applies a
 * domain rule (customers/domain.h) and saves the result. The port is a small ops struct, so unit
 * tests plug in a fake and the module plugs in PostgreSQL (customers/postgres.c). The customers
 * module calls no other module.
 *
 * Logging: the book's logging decorator ("-->" and "<--" records at debug level) is the core's:
 * rpc_invoke() logs every call of the module's RPC methods (rpc.h, "Logging").
 *
 * Errors: domain rules give CORE_ERR_INVALID with the book's texts; a blank id gives
 * CORE_ERR_INVALID "the customer id cannot be blank"; an unknown id gives CORE_ERR_NOT_FOUND
 * "customer <id> not found"; a repository's error is passed up unchanged.
 *
 * Thread-safety: a customers_app is read-only after set-up; its functions may run from many
 * threads at once if the port allows it (the PostgreSQL one does).
 */
#ifndef CUSTOMERS_APPLICATION_H
#define CUSTOMERS_APPLICATION_H

#include "core.h"
#include "customers/domain.h"

/* The customers table (the book's CustomerRepository).
 * save: inserts a new customer (copied); an existing id -> CORE_ERR_CONFLICT.
 * find: fills the EMPTY *out (caller releases it); unknown id -> CORE_ERR_NOT_FOUND
 *       "customer <id> not found".
 * update: writes name, sms_number and enabled of an existing customer; unknown id ->
 *         CORE_ERR_NOT_FOUND. */
struct customers_repo {
    void *self;
    core_status (*save)(void *self, const struct customers_customer *customer, core_err *err);
    core_status (*find)(void *self, const char *id, struct customers_customer *out, core_err *err);
    core_status (*update)(void *self, const struct customers_customer *customer, core_err *err);
};

/* The application: its port, borrowed (self must outlive the app). */
struct customers_app {
    struct customers_repo customers;
};

/* Registers an enabled customer with the given id (the RPC layer makes a new UUID) and saves it.
 * Strings are borrowed. Rules: see customers_customer_register(). */
core_status customers_app_register_customer(struct customers_app *app, const char *id,
                                            const char *name, const char *sms_number,
                                            core_err *err);

/* Succeeds when customer id exists and is enabled. CORE_ERR_NOT_FOUND for an unknown id;
 * CORE_ERR_INVALID "customer <id> is not authorized: the customer is disabled" for a disabled
 * one. Ordering calls it before it accepts an order. */
core_status customers_app_authorize_customer(struct customers_app *app, const char *id,
                                             core_err *err);

/* Fills the EMPTY *out with customer id (caller releases it with customers_customer_release). */
core_status customers_app_get_customer(struct customers_app *app, const char *id,
                                       struct customers_customer *out, core_err *err);

/* Loads customer id, enables it and saves it ("the customer is already enabled"). */
core_status customers_app_enable_customer(struct customers_app *app, const char *id, core_err *err);

/* Loads customer id, disables it and saves it ("the customer is already disabled"). */
core_status customers_app_disable_customer(struct customers_app *app, const char *id,
                                           core_err *err);

#endif /* CUSTOMERS_APPLICATION_H */
