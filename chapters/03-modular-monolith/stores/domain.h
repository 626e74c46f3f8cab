/* stores/domain.h -- the stores bounded context's entities and rules: Store and Product.
 *
 * Layer: domain (pure C, no I/O, no logging). The application layer (stores/application.h) loads
 * entities through repository ports, asks them to change, and saves them.
 *
 * Entities live in caller storage: stores_store_init() (or STORES_STORE_INIT) before use,
 * stores_store_release() after; the same for products and for the two list types. Identifiers
 * are fixed arrays of up to STORES_ID_MAX characters; every other string is a core_strdup'd copy
 * owned by the entity and freed by its release function (never NULL in a filled entity).
 *
 * Rule violations return CORE_ERR_INVALID with the book's texts, e.g.
 * "the store name cannot be blank". A string is blank when it is empty or only white space.
 *
 * Thread-safety: entities are plain values; use one from one thread at a time.
 */
#ifndef STORES_DOMAIN_H
#define STORES_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "core.h"

/* Longest identifier (store or product id) accepted, in bytes. */
#define STORES_ID_MAX 64

/* Largest price the catalog stores (decimal(9,4) in SQL). */
#define STORES_PRICE_MAX 99999.9999

/* ---- Store -------------------------------------------------------------------------------- */

/* A store in the mall; participating = it takes part in the kiosk program. */
struct stores_store {
    char id[STORES_ID_MAX + 1];
    char *name;     /* owned; NULL only in an empty entity */
    char *location; /* owned; NULL only in an empty entity */
    bool participating;
};

#define STORES_STORE_INIT                                                                          \
    {                                                                                              \
        {0}, NULL, NULL, false                                                                     \
    }

/* Makes s an empty store. */
void stores_store_init(struct stores_store *s);

/* Frees what s owns and makes it empty again. NULL is a no-op. */
void stores_store_release(struct stores_store *s);

/* The book's CreateStore: fills the empty store s with a new, NOT participating store.
 * id, name and location are copied. Rules, checked in this order:
 *   "the store id cannot be blank", "the store id is too long" (over STORES_ID_MAX),
 *   "the store name cannot be blank", "the store location cannot be blank".
 * On failure s stays empty. Errors: CORE_ERR_INVALID, CORE_ERR_NOMEM. */
core_status stores_store_create(struct stores_store *s, const char *id, const char *name,
                                const char *location, core_err *err);

/* Fills the empty store s from stored values without checking rules (repositories use it to
 * rebuild what they saved). Strings are copied; an id over STORES_ID_MAX is CORE_ERR_INVALID
 * "the store id is too long". On failure s stays empty. */
core_status stores_store_restore(struct stores_store *s, const char *id, const char *name,
                                 const char *location, bool participating, core_err *err);

/* Makes the store take part in the kiosk program.
 * CORE_ERR_INVALID "the store is already participating" when it already does. */
core_status stores_store_enable_participation(struct stores_store *s, core_err *err);

/* Takes the store out of the kiosk program.
 * CORE_ERR_INVALID "the store is already not participating" when it is not in it. */
core_status stores_store_disable_participation(struct stores_store *s, core_err *err);

/* ---- Product ------------------------------------------------------------------------------ */

/* A product of one store's catalog. price is in the mall's currency, >= 0. */
struct stores_product {
    char id[STORES_ID_MAX + 1];
    char store_id[STORES_ID_MAX + 1];
    char *name;        /* owned; NULL only in an empty entity */
    char *description; /* owned; may be "" */
    char *sku;         /* owned; may be "" */
    double price;
};

#define STORES_PRODUCT_INIT                                                                        \
    {                                                                                              \
        {0}, {0}, NULL, NULL, NULL, 0.0                                                            \
    }

/* Makes p an empty product. */
void stores_product_init(struct stores_product *p);

/* Frees what p owns and makes it empty again. NULL is a no-op. */
void stores_product_release(struct stores_product *p);

/* The book's CreateProduct: fills the empty product p. All strings are copied; description and
 * sku may be NULL (stored as ""). Rules, checked in this order:
 *   "the product id cannot be blank", "the product id is too long",
 *   "the store id cannot be blank", "the store id is too long",
 *   "the product name cannot be blank", "the product price cannot be negative" (also for NaN),
 *   "the product price cannot be over 99999.9999" (STORES_PRICE_MAX; the catalog's column limit).
 * On failure p stays empty. Errors: CORE_ERR_INVALID, CORE_ERR_NOMEM. */
core_status stores_product_create(struct stores_product *p, const char *id, const char *store_id,
                                  const char *name, const char *description, const char *sku,
                                  double price, core_err *err);

/* Fills the empty product p from stored values without checking rules (for repositories).
 * Strings are copied (description and sku may be NULL: ""); an id or store id over STORES_ID_MAX
 * is CORE_ERR_INVALID. On failure p stays empty. */
core_status stores_product_restore(struct stores_product *p, const char *id, const char *store_id,
                                   const char *name, const char *description, const char *sku,
                                   double price, core_err *err);

/* ---- lists -------------------------------------------------------------------------------- */

/* A growable array of stores, in caller storage. items[0..len) are filled entities. */
struct stores_store_list {
    struct stores_store *items;
    size_t len, cap;
};

#define STORES_STORE_LIST_INIT                                                                     \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void stores_store_list_init(struct stores_store_list *l);

/* Releases every store and the array; l is empty afterwards. NULL is a no-op. */
void stores_store_list_release(struct stores_store_list *l);

/* Appends s, taking ownership of what it holds: on success s is left empty (its strings moved
 * into the list). On CORE_ERR_NOMEM nothing changes (s still owns its strings). */
core_status stores_store_list_add(struct stores_store_list *l, struct stores_store *s,
                                  core_err *err);

/* A growable array of products, in caller storage. items[0..len) are filled entities. */
struct stores_product_list {
    struct stores_product *items;
    size_t len, cap;
};

#define STORES_PRODUCT_LIST_INIT                                                                   \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void stores_product_list_init(struct stores_product_list *l);

/* Releases every product and the array; l is empty afterwards. NULL is a no-op. */
void stores_product_list_release(struct stores_product_list *l);

/* Appends p, taking ownership of what it holds: on success p is left empty. On CORE_ERR_NOMEM
 * nothing changes. */
core_status stores_product_list_add(struct stores_product_list *l, struct stores_product *p,
                                    core_err *err);

#endif /* STORES_DOMAIN_H */
