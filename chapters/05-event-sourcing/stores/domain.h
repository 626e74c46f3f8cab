/* stores/domain.h -- the stores bounded context's entities and rules: Store and Product, and the
 * rows of the two read models (the mall's stores, the catalog's products).
 *
 * Layer: domain (pure C, no I/O, no logging). The application layer (stores/application.h) loads
 * entities through the event-sourced repository (es.h), asks them to change, and saves them.
 *
 * Entities live in caller storage: stores_store_init() (or STORES_STORE_INIT) before use,
 * stores_store_release() after; the same for products and for the read-model rows and lists.
 * Identifiers are fixed arrays of up to STORES_ID_MAX characters; every other string is a
 * core_strdup'd copy owned by the entity and freed by its release function (never NULL in a
 * filled entity).
 *
 * Event sourcing (chapter 05): a store ("stores.Store") and a product ("stores.Product") are
 * event-sourced aggregates. Their state is the sum of their events: a rule that succeeds RAISES
 * an event (es_aggregate_raise), which records it as pending in the entity's agg AND applies it
 * to the entity at once through the type's apply function (stores_store_type,
 * stores_product_type); the repository rebuilds an entity by applying its stored events (after
 * the latest snapshot, "stores.StoreV1" / "stores.ProductV1", proto/stores/snapshots.proto) with
 * the same function. Payloads come from proto/stores/domain_events.proto:
 *     stores_store_create                 "stores.StoreCreated"               {name, location}
 *     stores_store_enable_participation   "stores.StoreParticipationEnabled"  {participating: true}
 *     stores_store_disable_participation  "stores.StoreParticipationDisabled" {participating: false}
 *     stores_store_rebrand                "stores.StoreRebranded"             {name}
 *     stores_product_create               "stores.ProductAdded"  {store_id, name, description, sku, price}
 *     stores_product_rebrand              "stores.ProductRebranded"           {name, description}
 *     stores_product_increase_price       "stores.ProductPriceIncreased"      {delta}
 *     stores_product_decrease_price       "stores.ProductPriceDecreased"      {delta}
 *     stores_product_remove               "stores.ProductRemoved"             {store_id}
 * The id lives in the aggregate (agg.base.id): the create functions set it, the repository sets
 * it on load. A failing rule changes nothing and raises nothing; so does CORE_ERR_NOMEM.
 *
 * Prices are kept to 4 decimals (the catalog's decimal(9,4)): a new product's price and a price
 * change's delta are rounded to 4 decimals, so the entity, its events and the catalog row agree.
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
#include "ddd.h"
#include "es.h"

/* The aggregates' names, their snapshots' names and their events' names. */
#define STORES_STORE_AGGREGATE "stores.Store"
#define STORES_PRODUCT_AGGREGATE "stores.Product"
#define STORES_STORE_SNAPSHOT "stores.StoreV1"
#define STORES_PRODUCT_SNAPSHOT "stores.ProductV1"
#define STORES_STORE_CREATED "stores.StoreCreated"
#define STORES_STORE_PARTICIPATION_ENABLED "stores.StoreParticipationEnabled"
#define STORES_STORE_PARTICIPATION_DISABLED "stores.StoreParticipationDisabled"
#define STORES_STORE_REBRANDED "stores.StoreRebranded"
#define STORES_PRODUCT_ADDED "stores.ProductAdded"
#define STORES_PRODUCT_REBRANDED "stores.ProductRebranded"
#define STORES_PRODUCT_PRICE_INCREASED "stores.ProductPriceIncreased"
#define STORES_PRODUCT_PRICE_DECREASED "stores.ProductPriceDecreased"
#define STORES_PRODUCT_REMOVED "stores.ProductRemoved"

/* Longest identifier (store or product id) accepted, in bytes (= DDD_ID_MAX). */
#define STORES_ID_MAX 64

/* Largest price the catalog stores (decimal(9,4) in SQL). */
#define STORES_PRICE_MAX 99999.9999

/* Registers every event name above and both snapshot names with their payload message types in
 * reg (at start-up, before the repositories use it). CORE_ERR_CONFLICT when a name is already
 * registered, CORE_ERR_NOMEM. */
core_status stores_register_types(es_registry *reg, core_err *err);

/* ---- Store -------------------------------------------------------------------------------- */

/* A store in the mall; participating = it takes part in the kiosk program. */
struct stores_store {
    struct es_aggregate agg; /* id (agg.base.id), version, pending events */
    char *name;     /* owned; NULL only in an empty entity */
    char *location; /* owned; NULL only in an empty entity */
    bool participating;
};

#define STORES_STORE_INIT {ES_AGGREGATE_INIT(STORES_STORE_AGGREGATE), NULL, NULL, false}

/* The event-sourcing description of a store: apply, to_snapshot, from_snapshot (es.h). */
extern const struct es_aggregate_type stores_store_type;

/* Makes s an empty store. */
void stores_store_init(struct stores_store *s);

/* Frees what s owns (pending events included) and makes it empty again. NULL is a no-op. */
void stores_store_release(struct stores_store *s);

/* The book's CreateStore: makes the empty store s the new store id and raises
 * "stores.StoreCreated" (so s is a NOT participating store with that name and location). Strings
 * are copied. Rules, checked in this order:
 *   "the store id cannot be blank", "the store id is too long" (over STORES_ID_MAX),
 *   "the store name cannot be blank", "the store location cannot be blank".
 * On failure s stays empty. Errors: CORE_ERR_INVALID, CORE_ERR_NOMEM. */
core_status stores_store_create(struct stores_store *s, const char *id, const char *name,
                                const char *location, core_err *err);

/* Makes the store take part in the kiosk program; raises "stores.StoreParticipationEnabled".
 * CORE_ERR_INVALID "the store is already participating" when it already does. CORE_ERR_NOMEM. */
core_status stores_store_enable_participation(struct stores_store *s, core_err *err);

/* Takes the store out of the kiosk program; raises "stores.StoreParticipationDisabled".
 * CORE_ERR_INVALID "the store is already not participating" when it is not in it. CORE_ERR_NOMEM. */
core_status stores_store_disable_participation(struct stores_store *s, core_err *err);

/* The book's Store.Rebrand: gives the store a new name (copied); raises "stores.StoreRebranded".
 * CORE_ERR_INVALID "the store name cannot be blank" (the book checks nothing here). CORE_ERR_NOMEM. */
core_status stores_store_rebrand(struct stores_store *s, const char *name, core_err *err);

/* ---- Product ------------------------------------------------------------------------------ */

/* A product of one store's catalog. price is in the mall's currency, >= 0. removed: the product
 * was removed from the catalog (its events stay; the application treats it as not found). */
struct stores_product {
    struct es_aggregate agg; /* id (agg.base.id), version, pending events */
    char store_id[STORES_ID_MAX + 1];
    char *name;        /* owned; NULL only in an empty entity */
    char *description; /* owned; may be "" */
    char *sku;         /* owned; may be "" */
    double price;
    bool removed;
};

#define STORES_PRODUCT_INIT {ES_AGGREGATE_INIT(STORES_PRODUCT_AGGREGATE), {0}, NULL, NULL, NULL, 0.0, false}

/* The event-sourcing description of a product: apply, to_snapshot, from_snapshot (es.h). */
extern const struct es_aggregate_type stores_product_type;

/* Makes p an empty product. */
void stores_product_init(struct stores_product *p);

/* Frees what p owns (pending events included) and makes it empty again. NULL is a no-op. */
void stores_product_release(struct stores_product *p);

/* The book's CreateProduct: makes the empty product p the new product id and raises
 * "stores.ProductAdded". All strings are copied; description and sku may be NULL (stored as "");
 * the price is rounded to 4 decimals. Rules, checked in this order:
 *   "the product id cannot be blank", "the product id is too long",
 *   "the store id cannot be blank", "the store id is too long",
 *   "the product name cannot be blank", "the product price cannot be negative" (also for NaN),
 *   "the product price cannot be over 99999.9999" (STORES_PRICE_MAX; the catalog's column limit).
 * On failure p stays empty. Errors: CORE_ERR_INVALID, CORE_ERR_NOMEM. */
core_status stores_product_create(struct stores_product *p, const char *id, const char *store_id,
                                  const char *name, const char *description, const char *sku,
                                  double price, core_err *err);

/* The book's Product.Rebrand: a new name and description (copied; description may be NULL: "");
 * raises "stores.ProductRebranded". CORE_ERR_INVALID "the product name cannot be blank" (the book
 * checks nothing here). CORE_ERR_NOMEM. */
core_status stores_product_rebrand(struct stores_product *p, const char *name, const char *description,
                                   core_err *err);

/* The book's Product.IncreasePrice: price is the NEW price; raises "stores.ProductPriceIncreased"
 * with delta = price - the current price (rounded to 4 decimals). Rules, in this order: "the
 * product price cannot be negative" (also NaN), "the product price cannot be over 99999.9999",
 * "the price change would be zero" (the delta rounds to 0: the book stores an event that changes
 * nothing; docs/ERRATA.md, D?rules-3), "the price change would be a decrease" (price below the
 * current price). CORE_ERR_INVALID, CORE_ERR_NOMEM. */
core_status stores_product_increase_price(struct stores_product *p, double price, core_err *err);

/* The book's Product.DecreasePrice: the mirror image; raises "stores.ProductPriceDecreased" with
 * delta = price - the current price (< 0). Rules as for increase, the last one being "the price
 * change would be an increase" (price above the current price). CORE_ERR_INVALID, CORE_ERR_NOMEM. */
core_status stores_product_decrease_price(struct stores_product *p, double price, core_err *err);

/* The book's Product.Remove: raises "stores.ProductRemoved"; the product is marked removed (its
 * fields stay as they were). CORE_ERR_NOMEM. */
core_status stores_product_remove(struct stores_product *p, core_err *err);

/* ---- read-model rows (the book's MallStore and CatalogProduct) ------------------------------ */

/* A store as the mall read model (table stores.stores) shows it. */
struct stores_mall_store {
    char id[STORES_ID_MAX + 1];
    char *name;     /* owned; NULL only in an empty row */
    char *location; /* owned; NULL only in an empty row */
    bool participating;
};

#define STORES_MALL_STORE_INIT {{0}, NULL, NULL, false}

void stores_mall_store_init(struct stores_mall_store *s);

/* Frees what s owns and makes it empty again. NULL is a no-op. */
void stores_mall_store_release(struct stores_mall_store *s);

/* Fills the empty row s (strings copied; NULL name or location is ""). An id over STORES_ID_MAX
 * is CORE_ERR_INVALID "the store id is too long". On failure s stays empty. */
core_status stores_mall_store_fill(struct stores_mall_store *s, const char *id, const char *name,
                                   const char *location, bool participating, core_err *err);

/* A product as the catalog read model (table stores.products) shows it. */
struct stores_catalog_product {
    char id[STORES_ID_MAX + 1];
    char store_id[STORES_ID_MAX + 1];
    char *name;        /* owned; NULL only in an empty row */
    char *description; /* owned; may be "" */
    char *sku;         /* owned; may be "" */
    double price;
};

#define STORES_CATALOG_PRODUCT_INIT {{0}, {0}, NULL, NULL, NULL, 0.0}

void stores_catalog_product_init(struct stores_catalog_product *p);

/* Frees what p owns and makes it empty again. NULL is a no-op. */
void stores_catalog_product_release(struct stores_catalog_product *p);

/* Fills the empty row p (strings copied; NULL strings are ""). An id or store id over
 * STORES_ID_MAX is CORE_ERR_INVALID. On failure p stays empty. */
core_status stores_catalog_product_fill(struct stores_catalog_product *p, const char *id, const char *store_id,
                                        const char *name, const char *description, const char *sku,
                                        double price, core_err *err);

/* ---- lists -------------------------------------------------------------------------------- */

/* A growable array of mall stores, in caller storage. items[0..len) are filled rows. */
struct stores_mall_store_list {
    struct stores_mall_store *items;
    size_t len, cap;
};

#define STORES_MALL_STORE_LIST_INIT {NULL, 0, 0}

void stores_mall_store_list_init(struct stores_mall_store_list *l);

/* Releases every store and the array; l is empty afterwards. NULL is a no-op. */
void stores_mall_store_list_release(struct stores_mall_store_list *l);

/* Appends s, taking ownership of what it holds: on success s is left empty (its strings moved
 * into the list). On CORE_ERR_NOMEM nothing changes (s still owns its strings). */
core_status stores_mall_store_list_add(struct stores_mall_store_list *l, struct stores_mall_store *s,
                                       core_err *err);

/* A growable array of catalog products, in caller storage. items[0..len) are filled rows. */
struct stores_catalog_product_list {
    struct stores_catalog_product *items;
    size_t len, cap;
};

#define STORES_CATALOG_PRODUCT_LIST_INIT {NULL, 0, 0}

void stores_catalog_product_list_init(struct stores_catalog_product_list *l);

/* Releases every product and the array; l is empty afterwards. NULL is a no-op. */
void stores_catalog_product_list_release(struct stores_catalog_product_list *l);

/* Appends p, taking ownership of what it holds: on success p is left empty. On CORE_ERR_NOMEM
 * nothing changes. */
core_status stores_catalog_product_list_add(struct stores_catalog_product_list *l,
                                            struct stores_catalog_product *p, core_err *err);

#endif /* STORES_DOMAIN_H */
