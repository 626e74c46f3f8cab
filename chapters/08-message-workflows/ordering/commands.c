/* ordering/commands.c -- see ordering/commands.h. */
#include <inttypes.h>

#include "log.h"
#include "ordering/commands.h"

core_status ordering_register_command_types(es_registry *reg, core_err *err)
{
    core_status st = es_registry_add_on(reg, ORDERING_COMMAND_CHANNEL, ORDERSAPI_APPROVE_ORDER,
                                        &ordersapi__approve_order__descriptor, err);
    if (!st)
        st = es_registry_add_on(reg, ORDERING_COMMAND_CHANNEL, ORDERSAPI_REJECT_ORDER,
                                &ordersapi__reject_order__descriptor, err);
    return st;
}

core_status ordering_on_command(void *ud, const struct am_delivery *d, const ddd_event *command,
                                ddd_event **reply, core_err *err)
{
    struct ordering_app *app = ud;
    const char *order_id;
    core_status st;
    (void)reply; /* am.Success / am.Failure: no typed reply */
    if (ddd_event_payload_is(command, &ordersapi__approve_order__descriptor)) {
        const Ordersapi__ApproveOrder *m = (const void *)ddd_event_payload(command);
        order_id = m->id;
        st = ordering_app_approve_order(app, m->id, m->shopping_id, err);
    } else if (ddd_event_payload_is(command, &ordersapi__reject_order__descriptor)) {
        const Ordersapi__RejectOrder *m = (const void *)ddd_event_payload(command);
        order_id = m->id;
        st = ordering_app_reject_order(app, m->id, err);
    } else {
        return core_err_set(err, CORE_ERR_INTERNAL, "ordering's command handlers do not handle %s",
                            ddd_event_name(command));
    }
    if (st)
        core_err_wrap(err, "%s of order %s", ddd_event_name(command), order_id);
    else
        log_debug("ordering", "%s %s: order %s done (delivery %" PRIu64 ")",
                  ddd_event_name(command), ddd_event_id(command), order_id, d ? d->delivered : 0);
    return st;
}

core_status ordering_subscribe_command_handlers(am_stream *stream, const es_registry *reg,
                                                struct ordering_app *app, core_err *err)
{
    static const char *const names[] = {ORDERSAPI_APPROVE_ORDER, ORDERSAPI_REJECT_ORDER, NULL};
    struct am_sub_opts opts = AM_SUB_OPTS_INIT;
    opts.group = ORDERING_COMMANDS_GROUP;
    opts.filter = names;
    return am_command_subscribe(stream, ORDERING_COMMAND_CHANNEL, &opts, reg, ordering_on_command,
                                app, err);
}
