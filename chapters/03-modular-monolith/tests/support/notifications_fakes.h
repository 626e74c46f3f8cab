/* notifications_fakes.h -- test support for the notifications module's unit tests: an in-memory
 * fake of the customers port of notifications/application.h, for test_notifications_app.c.
 *
 * Layer: test support (the chapter's tests/support/, linked into every test of the chapter). A
 * later chapter whose notifications ports change patches this file, not the tests that use it.
 *
 * The fake is caller storage, zeroed before use (= {0}). It knows one customer, "customer-1"
 * ("Buyer #1", SMS "555-1212"); any other id (NULL too) is CORE_ERR_NOT_FOUND "customer <id> not
 * found". fail other than CORE_OK fails every lookup with it and "customers RPC at
 * 127.0.0.1:8085 unreachable". calls counts the lookups, last_id is the last id asked for
 * ("(null)" for NULL).
 *
 * Thread-safety: none; one test thread.
 */
#ifndef NOTIFICATIONS_FAKES_H
#define NOTIFICATIONS_FAKES_H

#include "notifications/application.h"

struct notifications_fake_customers {
    int calls;
    char last_id[64];
    core_status fail; /* CORE_OK = answer normally */
};

/* Fills the port with the fake's operations (self = f, borrowed). */
void notifications_fake_customers_port(struct notifications_customers *out,
                                       struct notifications_fake_customers *f);

#endif /* NOTIFICATIONS_FAKES_H */
