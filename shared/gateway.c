/* gateway.c -- the REST gateway. See gateway.h.
 *
 * gw_mount() checks the route table against the service descriptor, then adds one web route per
 * table entry whose handler data is a struct gw_route_ctx inside a per-mount record, which the web
 * server owns (web_server_keep) and frees with itself. handle() is the whole request path: content
 * type, JSON body, path parameters, the RPC call, the JSON answer.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "console.h"
#include "gateway.h"
#include "log.h"
#include "openapi.h"
#include "pb.h"
#include "pbjson.h"

#define COMP "gateway"

struct gw_mount_rec;

/* Handler data of one route. */
struct gw_route_ctx {
    const struct gw_mount_rec *mount;
    const struct gw_route *route;
    const ProtobufCMethodDescriptor *md;
};

/* One gw_mount() call. */
struct gw_mount_rec {
    web_server *srv;
    rpc_registry *reg;
    const ProtobufCServiceDescriptor *svc;
    size_t n;
    struct gw_route_ctx routes[];
};

/* Every service and route table mounted on one web server, in mount order: what the console and
 * /openapi.json describe (console.h). Kept by the server (web_server_keep), found again with
 * web_server_kept() by the next gw_mount(); it grows only before the server starts, and request
 * handlers only read it. */
struct gw_catalogue {
    struct openapi_api api; /* api.services = services */
    struct openapi_service *services;
    size_t cap;
};

static void catalogue_free(void *p)
{
    struct gw_catalogue *c = p;
    core_free(c->services);
    core_free(c);
}

/* The server's catalogue; the first call makes it and mounts the console next to the routes. */
static core_status catalogue_of(web_server *srv, struct gw_catalogue **out, core_err *err)
{
    struct gw_catalogue *c = web_server_kept(srv, catalogue_free);
    if (c) {
        *out = c;
        return CORE_OK;
    }
    c = core_calloc(1, sizeof *c);
    if (!c)
        return core_err_nomem(err);
    c->api.title = GW_API_TITLE;
    c->api.version = GW_API_VERSION;
    c->api.description = GW_API_DESCRIPTION;
    core_status st = web_server_keep(srv, c, catalogue_free, err);
    if (st == CORE_OK)
        st = console_mount(srv, &c->api, err);
    if (st == CORE_OK)
        *out = c;
    return st;
}

/* ---- request path ------------------------------------------------------------------------------
 */

/* "application/json", "application/problem+json", with or without "; charset=...". */
static bool json_content_type(const char *ct)
{
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
        return true;
    return n > 17 && strncasecmp(ct, "application/", 12) == 0 &&
           strncasecmp(ct + n - 5, "+json", 5) == 0;
}

/* Any web page can make a browser send a body cross-site, without asking first, as
 * application/x-www-form-urlencoded, multipart/form-data or text/plain, or with no type at all
 * (fetch() with a Blob or ArrayBuffer body); application/json needs a CORS preflight, which this
 * server never grants. So only a JSON type lets a body in. Returns the message of a refusal, or
 * NULL. */
static const char *content_type_problem(const struct web_request *req, char *buf, size_t size)
{
    const char *ct = web_request_header(req, "Content-Type");
    if (req->body_len == 0) /* nothing is decoded: the type does not matter */
        return NULL;
    if (ct && !json_content_type(ct))
        snprintf(
            buf, size,
            "unsupported Content-Type \"%.100s\": send the body as JSON with -H 'Content-Type: "
            "application/json'",
            ct);
    else if (!ct)
        snprintf(
            buf, size,
            "missing Content-Type: send the body as JSON with -H 'Content-Type: application/json'");
    else
        return NULL;
    return buf;
}

static void handle(void *ud, const struct web_request *req, struct web_response *resp)
{
    const struct gw_route_ctx *rc = ud;
    const struct gw_mount_rec *m = rc->mount;
    core_err err = CORE_ERR_INIT;
    ProtobufCMessage *in = NULL, *out = NULL;
    char *body = NULL, problem[256];

    if (content_type_problem(req, problem, sizeof problem)) {
        web_respond_refusal(resp, CORE_REFUSE_MEDIA_TYPE, problem);
        return;
    }
    core_status st = CORE_OK;
    for (size_t i = 0; st == CORE_OK && i < req->nparams; i++) /* before any layer stores it */
        if (!pbjson_utf8_valid(req->param_values[i], strlen(req->param_values[i])))
            st = core_err_set(&err, CORE_ERR_INVALID, "the %s is not valid UTF-8",
                              req->param_names[i]);
    if (st == CORE_OK)
        st = pbjson_decode(rc->md->input, req->body, req->body_len, &in, &err);
    for (size_t i = 0; st == CORE_OK && i < req->nparams; i++)
        st = pbjson_set_field_text(in, req->param_names[i], req->param_values[i], &err);
    if (st == CORE_OK)
        st = rpc_invoke(m->reg, m->svc->name, rc->md->name, in, &out, &err);
    if (st == CORE_OK)
        st = pbjson_encode(out, &body, &err);

    if (st == CORE_OK) {
        web_respond(resp, 200, "application/json", body, strlen(body));
    } else {
        char what[160];
        snprintf(what, sizeof what, "%s %.60s (%s.%s)", req->method, req->path, m->svc->name,
                 rc->md->name);
        web_respond_failure(resp, &err,
                            what); /* internal detail to the log, the API's words to the client */
    }
    pb_free(in);
    pb_free(out);
}

/* ---- mounting ----------------------------------------------------------------------------------
 */

/* Checks every {param} of route->path against the input message md->input. */
static core_status check_params(const struct gw_route *route, const ProtobufCMethodDescriptor *md,
                                core_err *err)
{
    const char *p = route->path;
    while ((p = strchr(p, '{')) != NULL) {
        const char *end = strchr(p, '}');
        if (!end) /* web_route() reports the malformed template */
            return CORE_OK;
        char name[128];
        size_t len = (size_t)(end - p - 1);
        if (len >= sizeof name)
            return core_err_set(err, CORE_ERR_INVALID, "route %s %s: path parameter name too long",
                                route->method, route->path);
        memcpy(name, p + 1, len);
        name[len] = '\0';
        core_err local = CORE_ERR_INIT;
        if (pbjson_check_text_field(md->input, name, &local) != CORE_OK)
            return core_err_set(err, CORE_ERR_INVALID, "route %s %s: path parameter {%s}: %s",
                                route->method, route->path, name, local.msg);
        p = end + 1;
    }
    return CORE_OK;
}

core_status gw_mount(web_server *srv, rpc_registry *reg, const ProtobufCServiceDescriptor *svc,
                     const struct gw_route *routes, size_t n, core_err *err)
{
    if (!srv || !reg || !svc || (n > 0 && !routes))
        return core_err_set(err, CORE_ERR_INVALID,
                            "gw_mount: missing server, registry, service or routes");

    /* check the whole table first: a broken table mounts nothing */
    for (size_t i = 0; i < n; i++) {
        const struct gw_route *r = &routes[i];
        if (!r->method || !r->path || !r->rpc)
            return core_err_set(err, CORE_ERR_INVALID,
                                "gw_mount: route %zu of %s has a NULL method, path or rpc", i,
                                svc->name);
        const ProtobufCMethodDescriptor *md =
            protobuf_c_service_descriptor_get_method_by_name(svc, r->rpc);
        if (!md)
            return core_err_set(err, CORE_ERR_INVALID,
                                "route %s %s: rpc \"%s\" is not a method of %s", r->method, r->path,
                                r->rpc, svc->name);
        core_status st = check_params(r, md, err);
        if (st != CORE_OK)
            return st;
    }

    struct gw_catalogue *cat = NULL;
    core_status cst = catalogue_of(srv, &cat, err);
    if (cst != CORE_OK)
        return cst;
    if (core_array_grow(&cat->services, &cat->cap, cat->api.n + 1, sizeof *cat->services))
        return core_err_nomem(err);
    cat->api.services = cat->services;

    struct gw_mount_rec *rec = core_calloc(1, sizeof *rec + n * sizeof rec->routes[0]);
    if (!rec)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory mounting the routes of %s",
                            svc->name);
    rec->srv = srv;
    rec->reg = reg;
    rec->svc = svc;
    rec->n = n;
    for (size_t i = 0; i < n; i++) {
        rec->routes[i].mount = rec;
        rec->routes[i].route = &routes[i];
        rec->routes[i].md = protobuf_c_service_descriptor_get_method_by_name(svc, routes[i].rpc);
    }
    /* the server owns the record before any route points at it, and frees it after the routes */
    core_status kst = web_server_keep(srv, rec, core_free, err);
    if (kst != CORE_OK)
        return kst;

    for (size_t i = 0; i < n; i++) {
        const struct gw_route *r = &routes[i];
        core_err local = CORE_ERR_INIT;
        core_status st = web_route(srv, r->method, r->path, handle, &rec->routes[i], &local);
        if (st != CORE_OK)
            return core_err_set(err, st, "route %s %s: %s", r->method, r->path, local.msg);
    }
    cat->services[cat->api.n++] = (struct openapi_service){svc, routes, n};
    return CORE_OK;
}
