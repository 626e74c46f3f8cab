/* ordering_fakes.h -- test support for the ordering module's unit tests: in-memory fakes of the
 * ports of ordering/application.h (the order repository and the customers, payments, depot and
 * notifications modules), for test_ordering_app.c.
 *
 * Layer: test support (the chapter's tests/support/, linked into every test of the chapter). A
 * later chapter whose ordering ports change patches this file, not the tests that use it.
 *
 * One struct ordering_fakes stands behind every port: caller storage, zeroed before use
 * (= {0}), ordering_fake_release() after. Each call of a port is recorded in calls, separated by
 * spaces, in the order of the calls:
 *     find(<id>) save(<id>) update(<id>) authorize(<customer id>) confirm(<payment id>)
 *     create_invoice(<order id>,<payment id>) create_shopping_list(<order id>,<n> items,<first
 *     product id> x<its quantity>) cancel_shopping_list(<shopping id>)
 *     notify_created(<order id>,<customer id>) notify_canceled(...) notify_ready(...)
 * so a test checks the flow of a command with one string comparison. The repository keeps
 * copies of the orders in orders[] (at most ORDERING_FAKE_ORDERS; more is a test bug and fails
 * the test; a test may also fill rows directly); its contract is the PostgreSQL adapter's:
 * CORE_ERR_NOT_FOUND "order <id> not found", CORE_ERR_CONFLICT "order <id> already exists" for a
 * second save. writes counts the successful saves and updates. create_invoice answers
 * "invoice-1" (and keeps the amount in invoice_amount), create_shopping_list "shopping-1".
 *
 * ordering_fake_fail_next() makes one port fail (every call, until another is chosen) with a
 * given status and message; meddle, when set, runs once inside the next save (someone else's
 * change between a command's check and its save).
 *
 * Thread-safety: none; one test thread.
 */
#ifndef ORDERING_FAKES_H
#define ORDERING_FAKES_H

#include "ordering/application.h"

#define ORDERING_FAKE_ORDERS 4

/* The port operations, to make one fail. */
enum ordering_fake_port {
    ORDERING_FAKE_NONE,
    ORDERING_FAKE_FIND,
    ORDERING_FAKE_SAVE,
    ORDERING_FAKE_UPDATE,
    ORDERING_FAKE_AUTHORIZE,
    ORDERING_FAKE_CONFIRM,
    ORDERING_FAKE_CREATE_INVOICE,
    ORDERING_FAKE_CREATE_LIST,
    ORDERING_FAKE_CANCEL_LIST,
    ORDERING_FAKE_NOTIFY_CREATED,
    ORDERING_FAKE_NOTIFY_CANCELED,
    ORDERING_FAKE_NOTIFY_READY,
};

struct ordering_fakes {
    struct ordering_order orders[ORDERING_FAKE_ORDERS]; /* the "table" */
    size_t norders;
    int writes;                      /* successful saves + updates */
    char calls[1024];                /* "find(o1) authorize(c1) ..." */
    enum ordering_fake_port failing; /* this port fails with fail_status / fail_msg */
    core_status fail_status;
    const char *fail_msg;
    void (*meddle)(void);  /* run inside the next save: someone else's change */
    double invoice_amount; /* last create_invoice amount */
};

/* Fills every port of app with f's operations (self = f, borrowed). */
void ordering_fake_app(struct ordering_app *app, struct ordering_fakes *f);

/* Makes port fail with st and msg (borrowed) from now on; ORDERING_FAKE_NONE: nothing fails. */
void ordering_fake_fail_next(struct ordering_fakes *f, enum ordering_fake_port port, core_status st,
                             const char *msg);

/* The stored order of id, or NULL (borrowed from f; valid until its next write). */
struct ordering_order *ordering_fake_order(struct ordering_fakes *f, const char *id);

/* Frees the stored orders and empties f. */
void ordering_fake_release(struct ordering_fakes *f);

#endif /* ORDERING_FAKES_H */
