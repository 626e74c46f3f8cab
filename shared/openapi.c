/* openapi.c -- the OpenAPI 3 document of the gateway's routes. See openapi.h.
 *
 * One pass over the routes builds "paths"; every message type a schema refers to is appended to a
 * work list (once), and the list is then turned into "components.schemas" front to back, each
 * schema possibly appending more types. Nothing recurses. jansson failures (out of memory) are
 * collected in struct gen's nomem flag and reported once at the end.
 */
#include <stdio.h>
#include <string.h>

#include "openapi.h"
#include "pbjson.h"

#define REF_PREFIX "#/components/schemas/"
#define WKT_TIMESTAMP "google.protobuf.Timestamp"
#define WKT_STRUCT "google.protobuf.Struct"
#define WKT_VALUE "google.protobuf.Value"
#define WKT_LIST "google.protobuf.ListValue"

struct gen {
    const ProtobufCMessageDescriptor **types; /* the work list: every message type referred to */
    size_t ntypes, cap;
    bool nomem, too_many;
};

/* ---- building JSON without checking every call -------------------------------------------------
 * Each helper takes a new reference (NULL = a failed allocation) and records failures in g. */

static json_t *obj(struct gen *g)
{
    json_t *o = json_object();
    if (!o)
        g->nomem = true;
    return o;
}

static json_t *str(struct gen *g, const char *s)
{
    json_t *v = json_string(s);
    if (!v)
        g->nomem = true;
    return v;
}

static void put(struct gen *g, json_t *o, const char *key, json_t *val /* new reference */)
{
    if (!o || !val || json_object_set_new(o, key, val) != 0) {
        if (o && val) /* json_object_set_new() took the reference even when it failed */
            val = NULL;
        json_decref(val);
        g->nomem = true;
    }
}

static void put_str(struct gen *g, json_t *o, const char *key, const char *s)
{
    put(g, o, key, str(g, s));
}

static void append(struct gen *g, json_t *a, json_t *val /* new reference */)
{
    if (!a || !val || json_array_append_new(a, val) != 0) {
        if (a && val)
            val = NULL;
        json_decref(val);
        g->nomem = true;
    }
}

/* {"type": type} with "format": format when format is not NULL. */
static json_t *typed(struct gen *g, const char *type, const char *format)
{
    json_t *o = obj(g);
    put_str(g, o, "type", type);
    if (format)
        put_str(g, o, "format", format);
    return o;
}

/* ---- schemas ------------------------------------------------------------------------------------
 */

static bool is_type(const ProtobufCMessageDescriptor *d, const char *name)
{
    return strcmp(d->name, name) == 0;
}

/* {"$ref": "#/components/schemas/<full name>"}, putting md on the work list the first time. */
static json_t *ref_to(struct gen *g, const ProtobufCMessageDescriptor *md)
{
    bool known = false;
    for (size_t i = 0; !known && i < g->ntypes; i++)
        known = g->types[i] == md;
    if (!known) {
        if (g->ntypes == OPENAPI_MAX_SCHEMAS) {
            g->too_many = true;
            return NULL;
        }
        if (core_array_grow(&g->types, &g->cap, g->ntypes + 1, sizeof *g->types) != CORE_OK) {
            g->nomem = true;
            return NULL;
        }
        g->types[g->ntypes++] = md;
    }
    char ref[sizeof REF_PREFIX + 256];
    snprintf(ref, sizeof ref, REF_PREFIX "%s", md->name);
    json_t *o = obj(g);
    put_str(g, o, "$ref", ref);
    return o;
}

/* The schema of one value of type t (desc: its message or enum descriptor), as pbjson writes it:
 * a repeated field's element, a map's value, a path parameter. */
static json_t *value_schema(struct gen *g, ProtobufCType t, const void *desc)
{
    switch (t) {
    case PROTOBUF_C_TYPE_STRING:
        return typed(g, "string", NULL);
    case PROTOBUF_C_TYPE_BYTES:
        return typed(g, "string", "byte");
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return typed(g, "integer", "int32");
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: {
        json_t *o = typed(g, "integer", "int64");
        put(g, o, "minimum", json_integer(0));
        return o;
    }
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return typed(g, "string", "int64"); /* pbjson writes 64-bit integers as strings */
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return typed(g, "string", "uint64");
    case PROTOBUF_C_TYPE_DOUBLE:
        return typed(g, "number", "double");
    case PROTOBUF_C_TYPE_FLOAT:
        return typed(g, "number", "float");
    case PROTOBUF_C_TYPE_BOOL:
        return typed(g, "boolean", NULL);
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *ed = desc;
        json_t *o = typed(g, "string", NULL);
        json_t *names = json_array();
        if (!names)
            g->nomem = true;
        for (unsigned i = 0; i < ed->n_values; i++)
            append(g, names, str(g, ed->values[i].name));
        put(g, o, "enum", names);
        return o;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessageDescriptor *md = desc;
        if (is_type(md, WKT_TIMESTAMP))
            return typed(g, "string", "date-time");
        if (is_type(md, WKT_STRUCT)) {
            json_t *o = typed(g, "object", NULL);
            put(g, o, "additionalProperties", json_true());
            return o;
        }
        if (is_type(md, WKT_VALUE))
            return obj(g); /* any JSON value */
        if (is_type(md, WKT_LIST)) {
            json_t *o = typed(g, "array", NULL);
            put(g, o, "items", obj(g));
            return o;
        }
        return ref_to(g, md);
    }
    }
    return obj(g);
}

static const char *type_word(ProtobufCType t, const void *desc)
{
    static const char *const words[] = {
        [PROTOBUF_C_TYPE_INT32] = "int32",       [PROTOBUF_C_TYPE_SINT32] = "sint32",
        [PROTOBUF_C_TYPE_SFIXED32] = "sfixed32", [PROTOBUF_C_TYPE_INT64] = "int64",
        [PROTOBUF_C_TYPE_SINT64] = "sint64",     [PROTOBUF_C_TYPE_SFIXED64] = "sfixed64",
        [PROTOBUF_C_TYPE_UINT32] = "uint32",     [PROTOBUF_C_TYPE_FIXED32] = "fixed32",
        [PROTOBUF_C_TYPE_UINT64] = "uint64",     [PROTOBUF_C_TYPE_FIXED64] = "fixed64",
        [PROTOBUF_C_TYPE_FLOAT] = "float",       [PROTOBUF_C_TYPE_DOUBLE] = "double",
        [PROTOBUF_C_TYPE_BOOL] = "bool",         [PROTOBUF_C_TYPE_STRING] = "string",
        [PROTOBUF_C_TYPE_BYTES] = "bytes",
    };
    if (t == PROTOBUF_C_TYPE_ENUM)
        return ((const ProtobufCEnumDescriptor *)desc)->name;
    if (t == PROTOBUF_C_TYPE_MESSAGE)
        return ((const ProtobufCMessageDescriptor *)desc)->name;
    if ((size_t)t < sizeof words / sizeof words[0] && words[t])
        return words[t];
    return "?";
}

/* The schema of field f of parent: the value's, or an array or map of them. A schema that is not
 * a $ref also gets "x-proto": the field as the .proto file declares it ("repeated int32 n"). */
static json_t *field_schema(struct gen *g, const ProtobufCMessageDescriptor *parent,
                            const ProtobufCFieldDescriptor *f)
{
    char decl[512];
    json_t *s;
    if (pbjson_field_is_map(parent, f)) {
        const ProtobufCMessageDescriptor *entry = f->descriptor;
        const ProtobufCFieldDescriptor *k = &entry->fields[0], *v = &entry->fields[1];
        s = typed(g, "object", NULL);
        put(g, s, "additionalProperties", value_schema(g, v->type, v->descriptor));
        snprintf(decl, sizeof decl, "map<%s, %s> %s", type_word(k->type, k->descriptor),
                 type_word(v->type, v->descriptor), f->name);
    } else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        s = typed(g, "array", NULL);
        put(g, s, "items", value_schema(g, f->type, f->descriptor));
        snprintf(decl, sizeof decl, "repeated %s %s", type_word(f->type, f->descriptor), f->name);
    } else {
        s = value_schema(g, f->type, f->descriptor);
        snprintf(decl, sizeof decl, "%s %s", type_word(f->type, f->descriptor), f->name);
    }
    if (s && !json_object_get(s, "$ref"))
        put_str(g, s, "x-proto", decl);
    return s;
}

/* {"type":"object","properties":{...},"additionalProperties":false} of md's fields, leaving out
 * the nskip fields in skip (those a path fills). */
static json_t *object_schema(struct gen *g, const ProtobufCMessageDescriptor *md,
                             const ProtobufCFieldDescriptor *const *skip, size_t nskip)
{
    json_t *o = typed(g, "object", NULL);
    json_t *props = obj(g);
    for (unsigned i = 0; i < md->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &md->fields[i];
        bool skipped = false;
        for (size_t k = 0; k < nskip; k++)
            skipped = skipped || skip[k] == f;
        if (skipped)
            continue;
        char name[256];
        put(g, props, pbjson_json_name(f->name, name, sizeof name), field_schema(g, md, f));
    }
    put(g, o, "properties", props);
    put(g, o, "additionalProperties", json_false());
    put_str(g, o, "x-proto", md->name);
    return o;
}

/* ---- operations ---------------------------------------------------------------------------------
 */

static json_t *json_content(struct gen *g, json_t *schema /* new reference */)
{
    json_t *media = obj(g), *content = obj(g);
    put(g, media, "schema", schema);
    put(g, content, "application/json", media);
    return content;
}

/* The operation of one route into *out (NULL when out of memory, see g), or CORE_ERR_INVALID for
 * a broken route. */
static core_status operation(struct gen *g, const ProtobufCServiceDescriptor *svc,
                             const struct gw_route *r, const ProtobufCMethodDescriptor *md,
                             unsigned nth, json_t **out, core_err *err)
{
    const ProtobufCFieldDescriptor *filled[WEB_MAX_PARAMS];
    size_t nfilled = 0;
    json_t *op = obj(g), *params = json_array();
    if (!params)
        g->nomem = true;

    for (const char *p = r->path; (p = strchr(p, '{')) != NULL;) {
        const char *end = strchr(p, '}');
        size_t len = end ? (size_t)(end - p - 1) : 0;
        char name[128], jname[128];
        const ProtobufCFieldDescriptor *f = NULL;
        if (end && len > 0 && len < sizeof name) {
            memcpy(name, p + 1, len);
            name[len] = '\0';
            f = pbjson_find_field(md->input, name);
        }
        if (!f || nfilled == WEB_MAX_PARAMS || f->label == PROTOBUF_C_LABEL_REPEATED ||
            f->type == PROTOBUF_C_TYPE_MESSAGE) {
            json_decref(op);
            json_decref(params);
            return core_err_set(
                err, CORE_ERR_INVALID,
                "route %s %s: a path parameter is not a singular scalar field of %s", r->method,
                r->path, md->input->name);
        }
        filled[nfilled++] = f;
        json_t *param = obj(g);
        put_str(g, param, "name", name);
        put_str(g, param, "in", "path");
        put(g, param, "required", json_true());
        put(g, param, "schema", field_schema(g, md->input, f));
        put_str(g, param, "x-field", pbjson_json_name(f->name, jname, sizeof jname));
        append(g, params, param);
        p = end + 1;
    }

    char id[512];
    if (nth > 1)
        snprintf(id, sizeof id, "%s.%s_%u", svc->name, md->name, nth);
    else
        snprintf(id, sizeof id, "%s.%s", svc->name, md->name);
    put_str(g, op, "operationId", id);
    put_str(g, op, "summary", md->name);
    json_t *tags = json_array();
    if (!tags)
        g->nomem = true;
    append(g, tags, str(g, svc->name));
    put(g, op, "tags", tags);
    snprintf(id, sizeof id, "%s/%s", svc->name, md->name);
    put_str(g, op, "x-rpc", id);
    if (nfilled > 0)
        put(g, op, "parameters", params);
    else
        json_decref(params);

    if (md->input->n_fields > nfilled) {
        json_t *body = obj(g);
        put(g, body, "required", json_false());
        put(g, body, "content", json_content(g, object_schema(g, md->input, filled, nfilled)));
        put(g, op, "requestBody", body);
    }

    json_t *responses = obj(g), *ok = obj(g), *other = obj(g);
    put_str(g, ok, "description", "OK");
    put(g, ok, "content", json_content(g, ref_to(g, md->output)));
    put(g, responses, "200", ok);
    put_str(g, other, "description",
            "an error: HTTP status and {code, message}, with requestId when the detail was logged");
    json_t *eref = obj(g);
    put_str(g, eref, "$ref", REF_PREFIX "Error");
    put(g, other, "content", json_content(g, eref));
    put(g, responses, "default", other);
    put(g, op, "responses", responses);
    *out = op;
    return CORE_OK;
}

static json_t *error_schema(struct gen *g)
{
    json_t *o = typed(g, "object", NULL), *props = obj(g), *required = json_array();
    if (!required)
        g->nomem = true;
    put(g, props, "code", typed(g, "integer", "int32"));
    put(g, props, "message", typed(g, "string", NULL));
    put(g, props, "requestId", typed(g, "string", NULL));
    append(g, required, str(g, "code"));
    append(g, required, str(g, "message"));
    put(g, o, "properties", props);
    put(g, o, "required", required);
    put_str(g, o, "description",
            "the gateway's error body (gateway.h): a gRPC code, the API's message, and the "
            "request id when the detail went to the program's log");
    return o;
}

/* How many routes before routes[i] of the same service name the same method. */
static unsigned method_count(const struct openapi_service *s, size_t i)
{
    unsigned n = 1;
    for (size_t k = 0; k < i; k++)
        n += strcmp(s->routes[k].rpc, s->routes[i].rpc) == 0;
    return n;
}

static void lower(char *out, size_t size, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < size; i++)
        out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    out[i] = '\0';
}

core_status openapi_document(const struct openapi_api *api, json_t **out, core_err *err)
{
    if (!api || !api->title || !api->version || !out || (api->n > 0 && !api->services))
        return core_err_set(err, CORE_ERR_INVALID, "openapi_document: missing title or version");
    struct gen g = {0};
    core_status st = CORE_OK;
    json_t *doc = obj(&g), *info = obj(&g), *paths = obj(&g), *schemas = obj(&g);

    put_str(&g, doc, "openapi", OPENAPI_VERSION);
    put_str(&g, info, "title", api->title);
    put_str(&g, info, "version", api->version);
    if (api->description)
        put_str(&g, info, "description", api->description);
    put(&g, doc, "info", info);

    for (size_t s = 0; st == CORE_OK && s < api->n; s++) {
        const struct openapi_service *svc = &api->services[s];
        for (size_t i = 0; st == CORE_OK && i < svc->n; i++) {
            const struct gw_route *r = &svc->routes[i];
            const ProtobufCMethodDescriptor *md =
                (r->method && r->path && r->rpc)
                    ? protobuf_c_service_descriptor_get_method_by_name(svc->svc, r->rpc)
                    : NULL;
            if (!md) {
                st = core_err_set(err, CORE_ERR_INVALID, "route %zu of %s: no method \"%s\"", i,
                                  svc->svc->name, r->rpc ? r->rpc : "(null)");
                break;
            }
            char method[16];
            lower(method, sizeof method, r->method);
            json_t *item = paths ? json_object_get(paths, r->path) : NULL;
            if (!item) {
                item = obj(&g);
                put(&g, paths, r->path, item);
                item = paths ? json_object_get(paths, r->path) : NULL;
            }
            if (item && json_object_get(item, method)) {
                st = core_err_set(err, CORE_ERR_INVALID, "route %s %s is there twice", r->method,
                                  r->path);
                break;
            }
            json_t *op = NULL;
            st = operation(&g, svc->svc, r, md, method_count(svc, i), &op, err);
            if (st == CORE_OK)
                put(&g, item, method, op);
        }
    }
    put(&g, doc, "paths", paths);

    /* the work list grows while it is walked: each schema may add the types it refers to */
    for (size_t i = 0; st == CORE_OK && !g.nomem && !g.too_many && i < g.ntypes; i++)
        put(&g, schemas, g.types[i]->name, object_schema(&g, g.types[i], NULL, 0));
    put(&g, schemas, "Error", error_schema(&g));
    json_t *components = obj(&g);
    put(&g, components, "schemas", schemas);
    put(&g, doc, "components", components);
    core_free(g.types);

    if (st == CORE_OK && g.too_many)
        st = core_err_set(err, CORE_ERR_TOO_LARGE, "the routes refer to more than %d message types",
                          OPENAPI_MAX_SCHEMAS);
    else if (st == CORE_OK && g.nomem)
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory building the OpenAPI document");
    if (st != CORE_OK) {
        json_decref(doc);
        return st;
    }
    *out = doc;
    return CORE_OK;
}

core_status openapi_schemas(const ProtobufCMessageDescriptor *const *types, size_t n, json_t **out,
                            core_err *err)
{
    if (!out || (n > 0 && !types))
        return core_err_set(err, CORE_ERR_INVALID, "openapi_schemas: no types");
    struct gen g = {0};
    json_t *schemas = obj(&g);
    for (size_t i = 0; i < n && !g.too_many; i++)
        json_decref(ref_to(&g, types[i])); /* puts the type on the work list */
    for (size_t i = 0; !g.nomem && !g.too_many && i < g.ntypes; i++)
        put(&g, schemas, g.types[i]->name, object_schema(&g, g.types[i], NULL, 0));
    core_free(g.types);
    core_status st = CORE_OK;
    if (g.too_many)
        st = core_err_set(err, CORE_ERR_TOO_LARGE, "more than %d message types",
                          OPENAPI_MAX_SCHEMAS);
    else if (g.nomem || !schemas)
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory building the schemas");
    if (st != CORE_OK) {
        json_decref(schemas);
        return st;
    }
    *out = schemas;
    return CORE_OK;
}
