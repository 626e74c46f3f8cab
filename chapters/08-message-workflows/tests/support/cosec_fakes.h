/* cosec_fakes.h -- test support (chapter 08): the create-order saga's participants, faked on the
 * in-memory stream (am.h's am_mem_broker). Four command handlers, subscribed in the real groups
 * on the real command channels, answer as customers, depot, payments and ordering would and
 * write down every command they get, so a test runs cosec's saga through the core's orchestrator
 * and checks what it asked for, in order.
 *
 * Layer: test support (the chapter's tests/support/). struct cosec_world is caller storage,
 * zeroed before use; set its answers, then cosec_world_subscribe().
 *
 * What the fakes answer:
 *   customersapi.AuthorizeCustomer      am.Success, or a rule failure when customer_disabled
 *   depotapi.CreateShoppingListCommand  depotapi.CreatedShoppingListReply{id = COSEC_FAKE_LIST},
 *                                       or {id = ""} when list_without_id
 *   paymentsapi.ConfirmPayment          am.Success, or a rule failure when payment_short
 *   depotapi.InitiateShoppingCommand, depotapi.CancelShoppingListCommand,
 *   ordersapi.ApproveOrder, ordersapi.RejectOrder                             am.Success
 * Each command is written down as "name:key", key being what the command is about:
 *   AuthorizeCustomer "<customer id>", CreateShoppingListCommand "<order id>/<n> items/<first
 *   product id> x<its quantity>@<its store id>", ConfirmPayment "<payment id>" (the amount in
 *   amount_asked), and every item of the last CreateShoppingListCommand as
 *   "<product id> x<quantity>@<store id>" in items, InitiateShoppingCommand and
 * CancelShoppingListCommand "<list id>", ApproveOrder "<order id>/<shopping id>", RejectOrder
 * "<order id>".
 *
 * Thread-safety: none; the memory broker delivers in the test's thread (am_mem_broker_run).
 */
#ifndef COSEC_FAKES_H
#define COSEC_FAKES_H

#include <stdbool.h>

#include "am.h"
#include "es.h"
#include "sec.h"

#define COSEC_FAKE_LIST "list-1" /* the id of every shopping list the fake depot makes */
#define COSEC_WORLD_MAX 16

struct cosec_world {
    bool customer_disabled; /* AuthorizeCustomer is refused */
    bool payment_short;     /* ConfirmPayment is refused */
    bool list_without_id;   /* the fake depot's reply names no list (a broken participant) */
    double amount_asked;    /* the amount of the last ConfirmPayment */
    char saga_id[64];       /* COMMAND_SAGA_ID of the last command */
    int nitems;             /* the items of the last CreateShoppingListCommand */
    char items[4][96];
    int n; /* commands seen */
    char seen[COSEC_WORLD_MAX][160];
};

/* Registers in reg every integration event, command and reply the saga needs (ordering's events
 * and the four modules' command types). Fails the test on error. */
void cosec_world_register(es_registry *reg);

/* Subscribes the four fakes over w (borrowed; outlives s) to their channels on s, decoding with
 * reg (borrowed). Fails the test on error. */
void cosec_world_subscribe(struct cosec_world *w, am_stream *s, const es_registry *reg);

/* The saga's test rig: an in-memory broker and stream, the registry (cosec_world_register), an
 * in-memory saga store, cosec's orchestrator of cosec.CreateOrder subscribed to its replies
 * (group COSEC_REPLIES_GROUP) and to OrderCreated (cosec_subscribe_order_handlers), and the fakes
 * over w. Caller storage, zeroed; cosec_rig_close() frees it. */
struct cosec_rig {
    am_mem_broker *b;
    am_stream *s;
    es_registry *reg;
    sec_store *store;
    sec_orchestrator *o;
    struct cosec_world w;
};

/* Opens r; reply_max_deliver is the reply subscription's max_deliver (0: the core's default).
 * Fails the test on error. */
void cosec_rig_open(struct cosec_rig *r, int reply_max_deliver);

/* Frees what r holds (the stream first, then the orchestrator). */
void cosec_rig_close(struct cosec_rig *r);

/* Publishes ordersapi.OrderCreated for order_id: customer "c1", payment "p1", 2 x "prod-a" at
 * 9.99 and 1 x "prod-b" at 5.00, both of store "store-1" (total 24.98). Fails the test on error. */
void cosec_world_order_created(am_stream *s, const char *order_id);

#endif /* COSEC_FAKES_H */
