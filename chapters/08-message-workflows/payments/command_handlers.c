/* payments/command_handlers.c -- the CommandHandlers (chapter 08): the create-order saga's
 * command to payments. See payments/handlers.h. */

#include "log.h"
#include "payments/commands.h"
#include "payments/handlers.h"

core_status payments_on_command(void *ud, const struct am_delivery *d, const ddd_event *command,
                                ddd_event **reply, core_err *err)
{
    (void)d;
    (void)reply; /* am.Success */
    if (!ddd_event_payload_is(command, &paymentsapi__confirm_payment__descriptor))
        return core_err_set(err, CORE_ERR_INTERNAL, "payments.CommandHandlers do not handle %s",
                            ddd_event_name(command));
    const Paymentsapi__ConfirmPayment *m = (const void *)ddd_event_payload(command);
    core_status st = payments_app_confirm_payment_amount(ud, m->id, m->amount, err);
    if (!st)
        log_info("payments", "payment %s confirmed for %.2f", m->id, m->amount);
    return st;
}

core_status payments_subscribe_command_handlers(am_stream *stream, const es_registry *reg,
                                                struct payments_app *app, core_err *err)
{
    static const char *const names[] = {PAYMENTSAPI_CONFIRM_PAYMENT, NULL};
    struct am_sub_opts opts = AM_SUB_OPTS_INIT;
    opts.group = PAYMENTS_COMMANDS_GROUP;
    opts.filter = names;
    return am_command_subscribe(stream, PAYMENTS_COMMAND_CHANNEL, &opts, reg, payments_on_command,
                                app, err);
}
