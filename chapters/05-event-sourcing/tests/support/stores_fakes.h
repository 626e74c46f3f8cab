/* stores_fakes.h -- test support for the stores module's unit tests (chapter 05): in-memory fakes
 * of the two read-model ports of stores/application.h (the mall and the catalog), shared by
 * test_stores_app.c and test_stores_handlers.c.
 *
 * Layer: test support (tests/support/ of the chapter, linked into the chapter's tests). No I/O.
 *
 * One struct stores_fake_read_models is the "database" behind both ports: caller storage,
 * stores_fake_init() before use, stores_fake_release() after. Its rows follow the ports'
 * contracts (unknown ids -> CORE_ERR_NOT_FOUND "store <id> not found" / "product <id> not
 * found", listings ordered by name then id). fail_op names one port operation that fails with
 * CORE_ERR_IO "db down" (e.g. "mall.add_store", "mall.set_participation", "mall.rename_store",
 * "mall.find", "mall.all", "mall.all_participating", "catalog.add_product", "catalog.rebrand",
 * "catalog.update_price", "catalog.remove", "catalog.find", "catalog.catalog"); the listings
 * fail after filling part of their output, so callers must clean up. writes counts the
 * successful write operations.
 *
 * Thread-safety: none; one test thread.
 */
#ifndef STORES_FAKES_H
#define STORES_FAKES_H

#include "stores/application.h"

struct stores_fake_read_models {
    struct stores_mall_store_list stores;
    struct stores_catalog_product_list products;
    const char *fail_op; /* borrowed; NULL = nothing fails */
    int writes;
};

void stores_fake_init(struct stores_fake_read_models *f);
void stores_fake_release(struct stores_fake_read_models *f);

/* Fill the ports with f's operations (self = f, borrowed). */
void stores_fake_mall(struct stores_mall_repo *out, struct stores_fake_read_models *f);
void stores_fake_catalog(struct stores_catalog_repo *out, struct stores_fake_read_models *f);

/* The row of id, or NULL (borrowed from f; valid until its next write). */
struct stores_mall_store *stores_fake_store(struct stores_fake_read_models *f, const char *id);
struct stores_catalog_product *stores_fake_product(struct stores_fake_read_models *f,
                                                   const char *id);

#endif /* STORES_FAKES_H */
