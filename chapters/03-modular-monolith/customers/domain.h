/* customers/domain.h -- the customers bounded context's entity and rules: Customer.
 *
 * Layer: domain (pure C, no I/O, no logging). The application layer (customers/application.h)
 * loads customers through a repository port, asks them to change, and saves them.
 *
 * A customer lives in caller storage: customers_customer_init() (or CUSTOMERS_CUSTOMER_INIT)
 * before use, customers_customer_release() after. The id is a fixed array of up to
 * CUSTOMERS_ID_MAX characters; name and sms_number are core_strdup'd copies owned by the entity.
 *
 * Rule violations return CORE_ERR_INVALID with the book's texts, e.g.
 * "the customer name cannot be blank". A string is blank when it is empty or only white space.
 *
 * Thread-safety: entities are plain values; use one from one thread at a time.
 */
#ifndef CUSTOMERS_DOMAIN_H
#define CUSTOMERS_DOMAIN_H

#include <stdbool.h>

#include "core.h"

/* Longest customer id accepted, in bytes. */
#define CUSTOMERS_ID_MAX 64

/* A kiosk customer; only an enabled customer may place orders. */
struct customers_customer {
    char id[CUSTOMERS_ID_MAX + 1];
    char *name;       /* owned; NULL only in an empty entity */
    char *sms_number; /* owned; NULL only in an empty entity */
    bool enabled;
};

#define CUSTOMERS_CUSTOMER_INIT                                                                    \
    {                                                                                              \
        {0}, NULL, NULL, false                                                                     \
    }

/* Makes c an empty customer. */
void customers_customer_init(struct customers_customer *c);

/* Frees what c owns and makes it empty again. NULL is a no-op. */
void customers_customer_release(struct customers_customer *c);

/* The book's RegisterCustomer: fills the EMPTY customer c with a new, enabled customer. id, name
 * and sms_number are copied. Rules, checked in this order:
 *   "the customer id cannot be blank", "the customer id is too long" (over CUSTOMERS_ID_MAX),
 *   "the customer name cannot be blank", "the SMS number cannot be blank".
 * On failure c stays empty. Errors: CORE_ERR_INVALID, CORE_ERR_NOMEM. */
core_status customers_customer_register(struct customers_customer *c, const char *id,
                                        const char *name, const char *sms_number, core_err *err);

/* Fills the EMPTY customer c from stored values without checking rules (for repositories).
 * Strings are copied; an id over CUSTOMERS_ID_MAX is CORE_ERR_INVALID "the customer id is too
 * long". On failure c stays empty. */
core_status customers_customer_restore(struct customers_customer *c, const char *id,
                                       const char *name, const char *sms_number, bool enabled,
                                       core_err *err);

/* Allows the customer to place orders again.
 * CORE_ERR_INVALID "the customer is already enabled" when it is. */
core_status customers_customer_enable(struct customers_customer *c, core_err *err);

/* Stops the customer from placing orders.
 * CORE_ERR_INVALID "the customer is already disabled" when it is. */
core_status customers_customer_disable(struct customers_customer *c, core_err *err);

/* The book's authorization rule (its application layer: "customer is not authorized"): only an
 * enabled customer is authorized. A disabled one gives CORE_ERR_INVALID
 * "customer <id> is not authorized: the customer is disabled". The core has no "unauthorized"
 * status; the book's gRPC Unauthenticated becomes a 400 here, like every other broken rule. */
core_status customers_customer_authorize(const struct customers_customer *c, core_err *err);

#endif /* CUSTOMERS_DOMAIN_H */
