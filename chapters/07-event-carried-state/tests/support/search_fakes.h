/* search_fakes.h -- test support for the search module's unit tests (chapter 07): in-memory
 * fakes of the two ports of search/application.h, the read model and the caches.
 *
 * Layer: test support (the chapter's tests/support/, linked into every test of the chapter). No
 * I/O. A later chapter whose search ports change patches this file, not the tests.
 *
 * struct search_fake_orders is the "table": caller storage, zeroed before use (= {0}),
 * search_fake_orders_release() after. Its contract is the PostgreSQL adapter's
 * (search/application.h): save_created upserts the details and keeps the status of a row that
 * exists; save_status inserts a placeholder or moves the status forward only; find refuses
 * unknown ids and placeholders ("order <id> not found"); search applies only the order (newest
 * first), the cursor, the limit and filters.status (the integration tests run the real query
 * with every filter) and records the limit it was asked for in last_limit. At most
 * SEARCH_FAKE_ROWS rows (more fails the test). fail_op names one operation ("save_created",
 * "save_status", "find", "search") that fails with CORE_ERR_IO "db down"; writes counts the
 * successful saves.
 *
 * struct search_fake_caches holds names: customers[i] = {id, name}, stores[i] = {id, name},
 * products[i] = {id, name, store_id} (borrowed strings, NULL-terminated lists: a test writes them
 * as static arrays). An id missing from its list is CORE_ERR_NOT_FOUND. fail_op ("customer",
 * "store", "product") fails that lookup with CORE_ERR_UNAVAILABLE "owner unreachable"; calls
 * counts every lookup.
 *
 * Thread-safety: none; one test thread.
 */
#ifndef SEARCH_FAKES_H
#define SEARCH_FAKES_H

#include "search/application.h"

#define SEARCH_FAKE_ROWS 16

struct search_fake_row {
    struct search_order order; /* order.status is the row's status */
    bool placeholder;          /* only a status event has arrived */
};

struct search_fake_orders {
    struct search_fake_row rows[SEARCH_FAKE_ROWS];
    size_t n;
    const char *fail_op;
    int writes;
    int last_limit;
};

void search_fake_orders_port(struct search_orders_repo *out, struct search_fake_orders *f);
void search_fake_orders_release(struct search_fake_orders *f);

/* The row of id, or NULL (borrowed from f). */
struct search_fake_row *search_fake_row(struct search_fake_orders *f, const char *id);

struct search_fake_name {
    const char *id;
    const char *name;
    const char *store_id; /* products only */
};

struct search_fake_caches {
    const struct search_fake_name *customers; /* each list ends with an entry whose id is NULL */
    const struct search_fake_name *stores;
    const struct search_fake_name *products;
    const char *fail_op;
    int calls;
};

void search_fake_caches_port(struct search_caches *out, struct search_fake_caches *f);

#endif /* SEARCH_FAKES_H */
