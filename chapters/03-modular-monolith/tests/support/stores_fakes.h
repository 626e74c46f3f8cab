/* stores_fakes.h -- test support for the stores module's unit tests: in-memory fakes of the three
 * repository ports of stores/application.h (stores, participating stores, products), for
 * test_stores_app.c.
 *
 * Layer: test support (the chapter's tests/support/, linked into every test of the chapter). A
 * later chapter whose stores ports change patches this file, not the tests that use it.
 *
 * One struct stores_fake_db is the "database" behind the three ports: caller storage,
 * stores_fake_init() before use, stores_fake_release() after; a test may add rows to its lists
 * directly (stores_store_list_add(), stores_product_list_add()). Its contracts are the
 * PostgreSQL adapter's: an unknown id is CORE_ERR_NOT_FOUND "store <id> not found" / "product
 * <id> not found", saving a store id twice CORE_ERR_CONFLICT "store <id> exists"; listings keep
 * the order of the rows. fail_op names one port operation that fails with CORE_ERR_IO "db down"
 * ("store.save", "store.update", "store.find", "store.find_all", "participating.find_all",
 * "product.add", "product.remove", "product.find", "product.catalog"); the listings fail after
 * filling part of their output, so callers must clean up. writes counts the successful saves,
 * updates, adds and removes.
 *
 * Thread-safety: none; one test thread.
 */
#ifndef STORES_FAKES_H
#define STORES_FAKES_H

#include "stores/application.h"

struct stores_fake_db {
    struct stores_store_list stores;
    struct stores_product_list products;
    const char *fail_op; /* borrowed; NULL = nothing fails */
    int writes;
};

void stores_fake_init(struct stores_fake_db *f);
void stores_fake_release(struct stores_fake_db *f);

/* Fills app's three repository ports with f's operations (self = f, borrowed). */
void stores_fake_repos(struct stores_app *app, struct stores_fake_db *f);

/* The row of id, or NULL (borrowed from f; valid until its next write). */
struct stores_store *stores_fake_store(struct stores_fake_db *f, const char *id);
struct stores_product *stores_fake_product(struct stores_fake_db *f, const char *id);

#endif /* STORES_FAKES_H */
