/* customers/command_handlers.c -- the CommandHandlers (chapter 08): the create-order saga's
 * command to customers. See customers/handlers.h. */

#include "customers/commands.h"
#include "customers/handlers.h"

core_status customers_on_command(void *ud, const struct am_delivery *d, const ddd_event *command,
                                 ddd_event **reply, core_err *err)
{
    (void)d;
    (void)reply; /* am.Success */
    if (!ddd_event_payload_is(command, &customersapi__authorize_customer__descriptor))
        return core_err_set(err, CORE_ERR_INTERNAL, "customers.CommandHandlers do not handle %s",
                            ddd_event_name(command));
    const Customersapi__AuthorizeCustomer *m = (const void *)ddd_event_payload(command);
    return customers_app_authorize_customer(ud, m->id, err);
}

core_status customers_subscribe_command_handlers(am_stream *stream, const es_registry *reg,
                                                 struct customers_app *app, core_err *err)
{
    static const char *const names[] = {CUSTOMERSAPI_AUTHORIZE_CUSTOMER, NULL};
    struct am_sub_opts opts = AM_SUB_OPTS_INIT;
    opts.group = CUSTOMERS_COMMANDS_GROUP;
    opts.filter = names;
    return am_command_subscribe(stream, CUSTOMERS_COMMAND_CHANNEL, &opts, reg, customers_on_command,
                                app, err);
}
