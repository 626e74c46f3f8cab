/* customers_fakes.h -- test support for the customers module's unit tests: an in-memory fake of
 * the repository port of customers/application.h, for test_customers_app.c.
 *
 * Layer: test support (the chapter's tests/support/, linked into every test of the chapter). A
 * later chapter whose customers ports change patches this file, not the tests that use it.
 *
 * struct customers_fake_repo is the "table": caller storage, zeroed before use (= {0}),
 * customers_fake_repo_release() after. It holds copies of the customers (at most
 * CUSTOMERS_FAKE_ROWS; more is a test bug and fails the test); a test may also fill rows[] and n
 * directly (customers_customer_restore()). Its contract is the PostgreSQL adapter's: an unknown
 * id is CORE_ERR_NOT_FOUND "customer <id> not found", saving an id twice CORE_ERR_CONFLICT
 * "customer <id> exists". fail_op names one operation ("save", "find", "update") that fails with
 * CORE_ERR_IO "db down"; writes counts the successful saves and updates.
 *
 * Thread-safety: none; one test thread.
 */
#ifndef CUSTOMERS_FAKES_H
#define CUSTOMERS_FAKES_H

#include "customers/application.h"

#define CUSTOMERS_FAKE_ROWS 8

struct customers_fake_repo {
    struct customers_customer rows[CUSTOMERS_FAKE_ROWS];
    size_t n;
    const char *fail_op; /* borrowed; NULL = nothing fails */
    int writes;
};

/* Fills the port with f's operations (self = f, borrowed). */
void customers_fake_repo_port(struct customers_repo *out, struct customers_fake_repo *f);

/* Frees the rows and empties f (fail_op and writes too). */
void customers_fake_repo_release(struct customers_fake_repo *f);

/* The row of id, or NULL (borrowed from f; valid until its next write). */
struct customers_customer *customers_fake_customer(struct customers_fake_repo *f, const char *id);

#endif /* CUSTOMERS_FAKES_H */
