/* asyncapi.c -- the AsyncAPI document of the registry's messages. See asyncapi.h.
 *
 * jansson's setters report a failed allocation by returning -1 (and a NULL value by failing):
 * every set goes through put(), which records the failure once, as openapi.c does. */
#include <stdio.h>
#include <string.h>

#include "asyncapi.h"
#include "openapi.h"

#define MSG_REF "#/components/messages/"
#define SCHEMA_REF "#/components/schemas/"

static void put(bool *nomem, json_t *o, const char *key, json_t *val /* new reference */)
{
    if (!o || !val) {
        json_decref(val);
        *nomem = true;
    } else if (json_object_set_new(o, key, val) != 0) { /* takes val also when it fails */
        *nomem = true;
    }
}

static void put_str(bool *nomem, json_t *o, const char *key, const char *s)
{
    put(nomem, o, key, json_string(s));
}

static json_t *ref(bool *nomem, const char *prefix, const char *name)
{
    char text[512];
    snprintf(text, sizeof text, "%s%s", prefix, name);
    json_t *o = json_object();
    put_str(nomem, o, "$ref", text);
    return o;
}

/* components.messages[name] */
static json_t *message(bool *nomem, const char *name, const ProtobufCMessageDescriptor *desc,
                       const char *channel)
{
    json_t *m = json_object(), *headers = json_object(), *props = json_object(),
           *id = json_object();
    put_str(nomem, m, "name", name);
    put_str(nomem, m, "title", name);
    char summary[512];
    snprintf(summary, sizeof summary,
             "%s: a %s payload in the stream's envelope (StreamMessage{id, name, data}, data = "
             "EventMessageData{payload, occurred_at, metadata}); shown as JSON by the lab console",
             name, desc->name);
    put_str(nomem, m, "summary", summary);
    put_str(nomem, m, "contentType", ASYNCAPI_CONTENT_TYPE);
    put(nomem, m, "payload", ref(nomem, SCHEMA_REF, desc->name));
    put_str(nomem, id, "type", "string");
    put_str(nomem, id, "description", "the message id: a repeated id is stored once");
    put(nomem, props, "Nats-Msg-Id", id);
    put_str(nomem, headers, "type", "object");
    put(nomem, headers, "properties", props);
    put(nomem, m, "headers", headers);
    if (channel)
        put_str(nomem, m, "x-channel", channel);
    else
        put_str(nomem, m, "description",
                "no channel of its own: not published on a fixed channel (a reply, for one, "
                "travels on the reply channel its command names in COMMAND_REPLY_CHANNEL)");
    put_str(nomem, m, "x-proto", desc->name);
    return m;
}

core_status asyncapi_document(const es_registry *reg, const char *title, const char *version,
                              const char *description, json_t **out, core_err *err)
{
    if (!reg || !title || !version || !out)
        return core_err_set(err, CORE_ERR_INVALID,
                            "asyncapi_document: missing registry, title "
                            "or version");
    size_t n = es_registry_count(reg);
    const ProtobufCMessageDescriptor **types = NULL;
    if (n > 0 && !(types = core_calloc(n, sizeof *types)))
        return core_err_nomem(err);
    bool nomem = false;
    json_t *doc = json_object(), *info = json_object(), *channels = json_object(),
           *messages = json_object(), *components = json_object();
    put_str(&nomem, doc, "asyncapi", ASYNCAPI_VERSION);
    put_str(&nomem, info, "title", title);
    put_str(&nomem, info, "version", version);
    if (description)
        put_str(&nomem, info, "description", description);
    put(&nomem, doc, "info", info);
    put_str(&nomem, doc, "defaultContentType", ASYNCAPI_CONTENT_TYPE);

    for (size_t i = 0; i < n && !nomem; i++) {
        const char *name, *channel;
        es_registry_at(reg, i, &name, &types[i], &channel);
        put(&nomem, messages, name, message(&nomem, name, types[i], channel));
        if (!channel || !channels)
            continue;
        json_t *ch = json_object_get(channels, channel);
        if (!ch) {
            json_t *op = json_object(), *msg = json_object();
            char summary[300];
            snprintf(summary, sizeof summary, "the messages published on %s", channel);
            put_str(&nomem, op, "summary", summary);
            put(&nomem, msg, "oneOf", json_array());
            put(&nomem, op, "message", msg);
            ch = json_object();
            put(&nomem, ch, "subscribe", op);
            put(&nomem, channels, channel, ch);
            ch = json_object_get(channels, channel);
        }
        json_t *list =
            json_object_get(json_object_get(json_object_get(ch, "subscribe"), "message"), "oneOf");
        json_t *r = ref(&nomem, MSG_REF, name);
        if (!list || !r || json_array_append_new(list, r) != 0)
            nomem = true;
    }
    put(&nomem, doc, "channels", channels);
    put(&nomem, components, "messages", messages);
    json_t *schemas = NULL;
    core_status st = nomem ? CORE_OK : openapi_schemas(types, n, &schemas, err);
    core_free(types);
    if (st == CORE_OK)
        put(&nomem, components, "schemas", schemas);
    put(&nomem, doc, "components", components);
    if (st == CORE_OK && nomem)
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory building the AsyncAPI document");
    if (st != CORE_OK) {
        json_decref(doc);
        return st;
    }
    *out = doc;
    return CORE_OK;
}
