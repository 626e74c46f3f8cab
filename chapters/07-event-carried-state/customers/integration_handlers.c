/* customers/integration_handlers.c -- the IntegrationEventHandlers (chapter 07): every domain
 * event of a customer but CustomerAuthorized becomes an integration event published on the
 * stream. See customers/handlers.h. */
#include <string.h>

#include "am.h"
#include "customers/domain.h"
#include "customers/domain_events.pb-c.h"
#include "customers/events.h"
#include "customers/handlers.h"
#include "pb.h"

/* What one domain event becomes: a message name and the payload built from the domain event's
 * payload and the customer's id. */
struct translation {
    const char *domain_name;
    const char *name;
    const ProtobufCMessageDescriptor *domain_desc;
    ProtobufCMessage *(*build)(const char *id, const void *domain);
};

/* The builders return a new message (pb_free), or NULL when memory ran out. */
static bool set_str(char **field, const char *value)
{
    return pb_set_string(field, value, NULL) == CORE_OK;
}

static ProtobufCMessage *build_registered(const char *id, const void *domain)
{
    const Customers__Domain__CustomerRegistered *d = domain;
    Customersapi__CustomerRegistered *m = pb_new_of(customersapi__customer_registered);
    if (m && set_str(&m->id, id) && set_str(&m->name, d->name) &&
        set_str(&m->sms_number, d->sms_number))
        return &m->base;
    pb_free((ProtobufCMessage *)m);
    return NULL;
}

static ProtobufCMessage *build_sms_changed(const char *id, const void *domain)
{
    const Customers__Domain__CustomerSmsChanged *d = domain;
    Customersapi__CustomerSmsChanged *m = pb_new_of(customersapi__customer_sms_changed);
    if (m && set_str(&m->id, id) && set_str(&m->sms_number, d->sms_number))
        return &m->base;
    pb_free((ProtobufCMessage *)m);
    return NULL;
}

static ProtobufCMessage *build_enabled(const char *id, const void *domain)
{
    (void)domain;
    Customersapi__CustomerEnabled *m = pb_new_of(customersapi__customer_enabled);
    if (m && set_str(&m->id, id))
        return &m->base;
    pb_free((ProtobufCMessage *)m);
    return NULL;
}

static ProtobufCMessage *build_disabled(const char *id, const void *domain)
{
    (void)domain;
    Customersapi__CustomerDisabled *m = pb_new_of(customersapi__customer_disabled);
    if (m && set_str(&m->id, id))
        return &m->base;
    pb_free((ProtobufCMessage *)m);
    return NULL;
}

static const struct translation translations[] = {
    {CUSTOMERS_CUSTOMER_REGISTERED, CUSTOMERSAPI_CUSTOMER_REGISTERED,
     &customers__domain__customer_registered__descriptor, build_registered},
    {CUSTOMERS_CUSTOMER_SMS_CHANGED, CUSTOMERSAPI_CUSTOMER_SMS_CHANGED,
     &customers__domain__customer_sms_changed__descriptor, build_sms_changed},
    {CUSTOMERS_CUSTOMER_ENABLED, CUSTOMERSAPI_CUSTOMER_ENABLED,
     &customers__domain__customer_enabled__descriptor, build_enabled},
    {CUSTOMERS_CUSTOMER_DISABLED, CUSTOMERSAPI_CUSTOMER_DISABLED,
     &customers__domain__customer_disabled__descriptor, build_disabled},
};
#define NTRANSLATIONS (sizeof translations / sizeof translations[0])

static const struct translation *find_translation(const char *domain_name)
{
    for (size_t i = 0; i < NTRANSLATIONS; i++)
        if (strcmp(translations[i].domain_name, domain_name) == 0)
            return &translations[i];
    return NULL;
}

/* Announces the domain event ev as its integration event: the payload built with the
 * aggregate's id, the domain event's id and time (am_event_announce). */
static core_status on_domain_event(void *ud, const ddd_event *ev, core_err *err)
{
    am_stream *stream = ud;
    const struct translation *t = find_translation(ddd_event_name(ev));
    if (!t)
        return core_err_set(err, CORE_ERR_INTERNAL,
                            "customers.IntegrationEventHandlers do not handle %s",
                            ddd_event_name(ev));
    const char *id = ddd_event_metadata(ev, "aggregate-id");
    if (core_str_blank(id) || !ddd_event_payload_is(ev, t->domain_desc))
        return core_err_set(err, CORE_ERR_INTERNAL, "event %s %s has no aggregate id or no %s",
                            ddd_event_name(ev), ddd_event_id(ev), t->domain_desc->short_name);
    ProtobufCMessage *payload = t->build(id, ddd_event_payload(ev));
    if (!payload)
        return core_err_nomem(err);
    struct timespec at = ddd_event_occurred_at(ev);
    return am_event_announce(stream, CUSTOMERS_CUSTOMER_CHANNEL, t->name, &payload,
                             ddd_event_id(ev), &at, err);
}

core_status customers_register_integration_handlers(ddd_dispatcher *d, am_stream *stream,
                                                    core_err *err)
{
    core_status st = CORE_OK;
    for (size_t i = 0; i < NTRANSLATIONS && !st; i++)
        st = ddd_dispatcher_subscribe(d, translations[i].domain_name,
                                      "customers.IntegrationEventHandlers", on_domain_event, stream,
                                      err);
    return st;
}
