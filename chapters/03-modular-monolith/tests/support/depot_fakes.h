/* depot_fakes.h -- test support for the depot module's unit tests: in-memory fakes of the ports
 * of depot/application.h (the shopping list repository, the stores and ordering modules), for
 * test_depot_app.c.
 *
 * Layer: test support (the chapter's tests/support/, linked into every test of the chapter). A
 * later chapter whose depot ports change patches this file, not the tests that use it.
 *
 * Every fake is caller storage, zeroed before use (= {0}).
 *   - struct depot_fake_lists is the repository: it keeps deep copies of the lists, as a
 *     database would (at most DEPOT_FAKE_LISTS; more is a test bug and fails the test); release
 *     it with depot_fake_lists_release(). An unknown id is CORE_ERR_NOT_FOUND "shopping list
 *     <id> not found".
 *   - struct depot_fake_stores is the stores module. It knows stores "s1" (Waldorf Books, West
 *     Upper Level) and "s2" (Nic & Naks, East Lower Level), and products "p1" (EDA with Golang)
 *     and "p2" (C Interfaces) of s1 and "p3" (Wizard w/ crystal) of s2; any other id is
 *     CORE_ERR_NOT_FOUND "store <id> not found" / "product <id> not found".
 *   - struct depot_fake_orders is the ordering module: it remembers the last ReadyOrder call
 *     (order_id) and keeps a log of them all ("ready(o1) ready(o2)").
 * A fail status other than CORE_OK makes the fake's operations fail with it: "shopping lists
 * table broken", "stores RPC at 127.0.0.1:8085 unreachable", "the order cannot be readied".
 *
 * Thread-safety: none; one test thread.
 */
#ifndef DEPOT_FAKES_H
#define DEPOT_FAKES_H

#include "depot/application.h"

#define DEPOT_FAKE_LISTS 4

struct depot_fake_lists {
    struct depot_shopping_list rows[DEPOT_FAKE_LISTS];
    size_t n;
    int saves, updates; /* successful ones */
    core_status fail_save, fail_find, fail_update;
};

struct depot_fake_stores {
    int store_calls, product_calls;
    core_status fail; /* returned by both lookups when set */
};

struct depot_fake_orders {
    int calls;
    char order_id[DEPOT_ID_MAX + 1]; /* of the last call */
    char log[256];                   /* "ready(<order id>)" per call, separated by spaces */
    core_status fail;
};

/* Fill the ports with the fakes' operations (self = f, borrowed). */
void depot_fake_lists_port(struct depot_list_repo *out, struct depot_fake_lists *f);
void depot_fake_stores_port(struct depot_stores_port *out, struct depot_fake_stores *f);
void depot_fake_orders_port(struct depot_orders_port *out, struct depot_fake_orders *f);

/* Frees the stored lists and empties f. */
void depot_fake_lists_release(struct depot_fake_lists *f);

/* The stored list of id, or NULL (borrowed from f; valid until its next write). */
struct depot_shopping_list *depot_fake_list(struct depot_fake_lists *f, const char *id);

#endif /* DEPOT_FAKES_H */
