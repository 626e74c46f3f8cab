/* baskets_fakes.h -- test support for the baskets module's unit tests: in-memory fakes of the
 * ports of baskets/application.h (the basket repository, the stores and ordering modules), for
 * test_baskets_app.c.
 *
 * Layer: test support (the chapter's tests/support/, linked into every test of the chapter). A
 * later chapter whose baskets ports change patches this file, not the tests that use it.
 *
 * Every fake is caller storage, zeroed before use (= {0}).
 *   - struct baskets_fake_repo keeps deep copies of the baskets (at most BASKETS_FAKE_ROWS; more
 *     is a test bug and fails the test); release it with baskets_fake_repo_release(). An unknown
 *     id is CORE_ERR_NOT_FOUND "basket <id> not found", saving an id twice CORE_ERR_CONFLICT
 *     "basket <id> already exists". finds, saves and updates count the calls.
 *   - struct baskets_fake_stores is the stores module: one store "s-1" (Waldorf Books, West
 *     Upper Level) with the products "p-1" (EDA with Golang, 49.99) and "p-2" (Wizard w/
 *     crystal, 9.99); any other id is CORE_ERR_NOT_FOUND "store <id> not found" / "product <id>
 *     not found".
 *   - struct baskets_fake_ordering is the ordering module: it remembers what it was last asked
 *     to order.
 * A fail_* status other than CORE_OK makes that operation fail with it: "fake find failed",
 * "fake save failed", "fake update failed", "stores RPC at 127.0.0.1:8085 unreachable: fake",
 * "fake product failure", "the customer is not authorized".
 *
 * Thread-safety: none; one test thread.
 */
#ifndef BASKETS_FAKES_H
#define BASKETS_FAKES_H

#include "baskets/application.h"

#define BASKETS_FAKE_ROWS 4

struct baskets_fake_repo {
    struct baskets_basket rows[BASKETS_FAKE_ROWS];
    size_t n;
    int finds, saves, updates;
    core_status fail_find, fail_save, fail_update; /* CORE_OK = work normally */
};

struct baskets_fake_stores {
    int store_calls, product_calls;
    core_status fail_store, fail_product;
    char last_store_id[64];
};

struct baskets_fake_ordering {
    int calls;
    core_status fail;
    /* the last basket ordered */
    char id[BASKETS_ID_MAX + 1], customer_id[BASKETS_ID_MAX + 1], payment_id[BASKETS_ID_MAX + 1];
    size_t nitems;
    int first_quantity;
    double first_price;
    enum baskets_status status_seen;
};

/* Fill the ports with the fakes' operations (self = f, borrowed). */
void baskets_fake_repo_port(struct baskets_repo *out, struct baskets_fake_repo *f);
void baskets_fake_stores_port(struct baskets_stores_port *out, struct baskets_fake_stores *f);
void baskets_fake_ordering_port(struct baskets_ordering_port *out, struct baskets_fake_ordering *f);

/* Frees the stored baskets and empties f. */
void baskets_fake_repo_release(struct baskets_fake_repo *f);

/* The stored basket of id, or NULL (borrowed from f; valid until its next write). */
struct baskets_basket *baskets_fake_basket(struct baskets_fake_repo *f, const char *id);

#endif /* BASKETS_FAKES_H */
