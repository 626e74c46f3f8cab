/* depot/command_handlers.c -- the CommandHandlers (chapter 08): the create-order saga's
 * commands to the depot. See depot/handlers.h. */

#include "depot/commands.h"
#include "depot/handlers.h"
#include "log.h"
#include "pb.h"

/* The reply depotapi.CreatedShoppingListReply {id} into *reply. */
static core_status created_reply(const char *id, ddd_event **reply, core_err *err)
{
    Depotapi__CreatedShoppingList *p = pb_new_of(depotapi__created_shopping_list);
    if (!p)
        return core_err_nomem(err);
    core_status st = pb_set_string(&p->id, id, err);
    if (st) {
        pb_free(&p->base);
        return st;
    }
    ProtobufCMessage *payload = &p->base;
    return ddd_event_new(reply, DEPOTAPI_CREATED_SHOPPING_LIST_REPLY, &payload, err);
}

static core_status create_list(struct depot_app *app, const Depotapi__CreateShoppingList *m,
                               ddd_event **reply, core_err *err)
{
    struct depot_order_item *items = NULL;
    if (m->n_items > 0 && !(items = core_calloc(m->n_items, sizeof *items)))
        return core_err_nomem(err);
    for (size_t i = 0; i < m->n_items; i++)
        items[i] = (struct depot_order_item){m->items[i]->store_id, m->items[i]->product_id,
                                             m->items[i]->quantity};
    char id[DEPOT_ID_MAX + 1] = "";
    core_status st =
        depot_app_create_order_shopping_list(app, m->order_id, items, m->n_items, id, err);
    core_free(items);
    if (st)
        return st;
    log_info("depot", "order %s has shopping list %s", m->order_id, id);
    return created_reply(id, reply, err);
}

core_status depot_on_command(void *ud, const struct am_delivery *d, const ddd_event *command,
                             ddd_event **reply, core_err *err)
{
    (void)d;
    struct depot_app *app = ud;
    core_status st;
    if (ddd_event_payload_is(command, &depotapi__create_shopping_list__descriptor)) {
        const Depotapi__CreateShoppingList *m = (const void *)ddd_event_payload(command);
        if ((st = create_list(app, m, reply, err)))
            core_err_wrap(err, "creating the shopping list of order %s", m->order_id);
    } else if (ddd_event_payload_is(command, &depotapi__cancel_shopping_list__descriptor)) {
        const Depotapi__CancelShoppingList *m = (const void *)ddd_event_payload(command);
        if ((st = depot_app_ensure_cancelled(app, m->id, err)))
            core_err_wrap(err, "cancelling shopping list %s", m->id);
    } else if (ddd_event_payload_is(command, &depotapi__initiate_shopping__descriptor)) {
        const Depotapi__InitiateShopping *m = (const void *)ddd_event_payload(command);
        if ((st = depot_app_initiate_shopping(app, m->id, err)))
            core_err_wrap(err, "initiating shopping list %s", m->id);
    } else {
        st = core_err_set(err, CORE_ERR_INTERNAL, "depot.CommandHandlers do not handle %s",
                          ddd_event_name(command));
    }
    return st;
}

core_status depot_subscribe_command_handlers(am_stream *stream, const es_registry *reg,
                                             struct depot_app *app, core_err *err)
{
    static const char *const names[] = {DEPOTAPI_CREATE_SHOPPING_LIST_COMMAND,
                                        DEPOTAPI_CANCEL_SHOPPING_LIST_COMMAND,
                                        DEPOTAPI_INITIATE_SHOPPING_COMMAND, NULL};
    struct am_sub_opts opts = AM_SUB_OPTS_INIT;
    opts.group = DEPOT_COMMANDS_GROUP;
    opts.filter = names;
    return am_command_subscribe(stream, DEPOT_COMMAND_CHANNEL, &opts, reg, depot_on_command, app,
                                err);
}
