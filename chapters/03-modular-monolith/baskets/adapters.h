/* adapters.h -- INTERNAL header of the baskets module: its adapters, as module.c wires them.
 *
 * Layer: adapters (the book's internal/postgres, internal/grpc and internal/rest packages).
 *   postgres.c   the repository port on PostgreSQL (table baskets.baskets)
 *   clients.c    the stores and ordering ports as RPC clients of those modules
 *   rpc_server.c the module's own proto service (basketspb.BasketService) over the application
 *   rest.c       the six REST routes, mounted through the gateway onto that service
 * Not for other modules: they talk to baskets only through its proto service.
 *
 * Thread-safety: the ports filled here are thread-safe (pg_pool and rpc_client are).
 */
#ifndef BASKETS_ADAPTERS_H
#define BASKETS_ADAPTERS_H

#include "baskets/application.h"
#include "baskets/domain.h"
#include "core.h"
#include "pg.h"
#include "rpc.h"
#include "web.h"

/* ---- postgres.c ------------------------------------------------------------------------------ */

/* Fills *out with the PostgreSQL repository on db (borrowed; must outlive the port). Rows of
 * baskets.baskets keep the items as the UTF-8 bytes of a JSON array (see below). Unknown id:
 * CORE_ERR_NOT_FOUND "basket <id> not found"; saving an existing id: CORE_ERR_CONFLICT "basket
 * <id> already exists"; a stored row that cannot be read back: CORE_ERR_IO naming the basket. */
void baskets__pg_repo(struct baskets_repo *out, pg_pool *db);

/* The items column's JSON: an array of
 *     {"store_id":"..","product_id":"..","store_name":"..","product_name":"..",
 *      "product_price":9.99,"quantity":2}
 * in the basket's order. encode: *out is a NUL-terminated core_malloc'd text (caller frees with
 * core_free); CORE_ERR_NOMEM. decode: fills the lines of b, which must have none, from json
 * (borrowed); anything but such an array (wrong type, missing or unknown field, quantity outside
 * 1..INT32_MAX) is CORE_ERR_INVALID with a message naming the problem, and b still has no lines. */
core_status baskets__items_encode(const struct baskets_basket *b, char **out, core_err *err);
core_status baskets__items_decode(struct baskets_basket *b, const char *json, core_err *err);

/* ---- clients.c ------------------------------------------------------------------------------- */

/* Fills *out with the stores port calling storespb.StoresService GetStore / GetProduct through c
 * (borrowed; must outlive the port). Errors of stores come back unchanged (e.g. CORE_ERR_NOT_FOUND
 * "product <id> not found"); an answer without the entity is CORE_ERR_INTERNAL. */
void baskets__stores_client(struct baskets_stores_port *out, rpc_client *c);

/* Fills *out with the ordering port calling orderingpb.OrderingService CreateOrder through c
 * (borrowed): order id = basket id, customer id, payment id, and one item per basket line with
 * the price of the line's product. Errors of ordering come back unchanged. */
void baskets__ordering_client(struct baskets_ordering_port *out, rpc_client *c);

/* ---- rpc_server.c ---------------------------------------------------------------------------- */

/* Registers basketspb.BasketService (all six RPCs) in reg with app as the implementation's state
 * (borrowed; must outlive reg's use). StartBasket generates the basket's id (a UUID). */
core_status baskets__rpc_register(rpc_registry *reg, struct baskets_app *app, core_err *err);

/* ---- rest.c ---------------------------------------------------------------------------------- */

/* Mounts the book's six REST routes on web, served by the BasketService registered in reg
 * (both borrowed). */
core_status baskets__rest_mount(web_server *web, rpc_registry *reg, core_err *err);

#endif /* BASKETS_ADAPTERS_H */
