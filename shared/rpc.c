/* rpc.c -- protobuf RPC over HTTP driven by protoc-c service descriptors. See rpc.h.
 *
 * The registry is a small array of services; each holds one function pointer per method of the
 * descriptor, in the descriptor's method order (NULL = not implemented). Lookups by name use
 * protobuf-c's own sorted method index (protobuf_c_service_descriptor_get_method_by_name).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "httpc.h"
#include "log.h"
#include "pb.h"
#include "rpc.h"

#define COMP "rpc"
#define CONTENT_TYPE "application/x-protobuf"

struct svc_entry {
    const ProtobufCServiceDescriptor *svc;
    rpc_method_fn *fns; /* svc->n_methods entries */
    void *ud;
};

struct rpc_registry {
    struct svc_entry *svcs;
    size_t n, cap;
};

struct rpc_client {
    httpc *http;
    char where[300]; /* "host:port" */
};

/* ---- registry -------------------------------------------------------------------------------- */

core_status rpc_registry_new(rpc_registry **out, core_err *err)
{
    rpc_registry *reg = core_calloc(1, sizeof *reg);
    if (!reg)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory creating an RPC registry");
    *out = reg;
    return CORE_OK;
}

void rpc_registry_free(rpc_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->n; i++)
        core_free(reg->svcs[i].fns);
    core_free(reg->svcs);
    core_free(reg);
}

static const struct svc_entry *find_service(const rpc_registry *reg, const char *service)
{
    for (size_t i = 0; service && i < reg->n; i++)
        if (strcmp(reg->svcs[i].svc->name, service) == 0)
            return &reg->svcs[i];
    return NULL;
}

core_status rpc_registry_add(rpc_registry *reg, const ProtobufCServiceDescriptor *svc,
                             const struct rpc_method *methods, size_t n, void *ud, core_err *err)
{
    if (!reg || !svc || (n > 0 && !methods))
        return core_err_set(err, CORE_ERR_INVALID,
                            "rpc_registry_add: missing registry, service or methods");
    if (find_service(reg, svc->name))
        return core_err_set(err, CORE_ERR_CONFLICT, "RPC service %s is already registered",
                            svc->name);

    rpc_method_fn *fns = core_calloc(svc->n_methods ? svc->n_methods : 1, sizeof *fns);
    if (!fns)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory registering %s", svc->name);
    for (size_t i = 0; i < n; i++) {
        const char *name = methods[i].name ? methods[i].name : "(null)";
        const ProtobufCMethodDescriptor *md =
            methods[i].name ? protobuf_c_service_descriptor_get_method_by_name(svc, methods[i].name)
                            : NULL;
        size_t idx = md ? (size_t)(md - svc->methods) : 0;
        core_status st = CORE_OK;
        if (!md)
            st =
                core_err_set(err, CORE_ERR_INVALID, "service %s has no method %s", svc->name, name);
        else if (!methods[i].fn)
            st = core_err_set(err, CORE_ERR_INVALID, "method %s.%s has no implementation function",
                              svc->name, name);
        else if (fns[idx])
            st = core_err_set(err, CORE_ERR_INVALID, "method %s.%s is listed twice", svc->name,
                              name);
        if (st != CORE_OK) {
            core_free(fns);
            return st;
        }
        fns[idx] = methods[i].fn;
    }
    if (core_array_grow(&reg->svcs, &reg->cap, reg->n + 1, sizeof *reg->svcs)) {
        core_free(fns);
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory registering %s", svc->name);
    }
    reg->svcs[reg->n++] = (struct svc_entry){svc, fns, ud};
    return CORE_OK;
}

const ProtobufCMethodDescriptor *rpc_registry_method(const rpc_registry *reg, const char *service,
                                                     const char *method)
{
    const struct svc_entry *e = reg ? find_service(reg, service) : NULL;
    if (!e || !method)
        return NULL;
    return protobuf_c_service_descriptor_get_method_by_name(e->svc, method);
}

core_status rpc_empty_response(core_status st, const ProtobufCMessageDescriptor *desc,
                               ProtobufCMessage **resp, core_err *err)
{
    if (st != CORE_OK)
        return st;
    *resp = pb_new(desc);
    return *resp ? CORE_OK : core_err_nomem(err);
}

/* "ordering" for the package "orderingpb": the module the service belongs to, in log records and
 * messages. */
static void module_name(const ProtobufCServiceDescriptor *svc, char *buf, size_t size)
{
    const char *pkg = svc->package && svc->package[0] ? svc->package : svc->name;
    size_t len = strlen(pkg);
    if (len > 2 && strcmp(pkg + len - 2, "pb") == 0)
        len -= 2;
    snprintf(buf, size, "%.*s", (int)len, pkg);
}

/* The call of the implementation fn of e's method md: everything rpc_invoke's log records enclose.
 * err is not NULL. */
static core_status run_method(const struct svc_entry *e, const ProtobufCMethodDescriptor *md,
                              rpc_method_fn fn, const ProtobufCMessage *req,
                              ProtobufCMessage **resp, core_err *err)
{
    const char *service = e->svc->name, *method = md->name;
    if (!req || req->descriptor != md->input)
        return core_err_set(err, CORE_ERR_INVALID, "method %s.%s takes a %s, not a %s", service,
                            method, md->input->name, req ? req->descriptor->name : "NULL message");

    ProtobufCMessage *out = NULL;
    core_status st = fn(e->ud, req, &out, err);
    if (st != CORE_OK) {
        pb_free(out); /* an implementation should not leave one, but must not leak either */
        if (err->status != st) /* the implementation forgot the detail */
            core_err_set(err, st, "%s.%s failed: %s", service, method, core_status_text(st));
        return st;
    }
    if (!out || out->descriptor != md->output) {
        const char *got = out ? out->descriptor->name : "nothing";
        core_err_set(err, CORE_ERR_INTERNAL, "method %s.%s returned %s instead of a %s", service,
                     method, got, md->output->name);
        pb_free(out);
        return CORE_ERR_INTERNAL;
    }
    *resp = out;
    return CORE_OK;
}

core_status rpc_invoke(rpc_registry *reg, const char *service, const char *method,
                       const ProtobufCMessage *req, ProtobufCMessage **resp, core_err *err)
{
    const struct svc_entry *e = find_service(reg, service);
    if (!e)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "no RPC service %s",
                            service ? service : "(null)");
    const ProtobufCMethodDescriptor *md =
        method ? protobuf_c_service_descriptor_get_method_by_name(e->svc, method) : NULL;
    if (!md)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "service %s has no method %s", service,
                            method ? method : "(null)");
    rpc_method_fn fn = e->fns[md - e->svc->methods];
    if (!fn)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "method %s.%s is not implemented", service,
                            method);

    /* the book's logging decorator of an application, here once for every module */
    char module[64];
    struct log_call call;
    module_name(e->svc, module, sizeof module);
    log_call_enter(&call, "%s.%s", module, md->name);
    core_err local = CORE_ERR_INIT;
    core_status st = log_call_leave(&call, run_method(e, md, fn, req, resp, &local), &local);
    if (st != CORE_OK && err)
        *err = local;
    return st;
}

/* ---- server ------------------------------------------------------------------------------------
 */

static void respond_rpc_error(struct web_response *resp, core_status st, const char *message)
{
    char *body = core_strdup(message);
    snprintf(resp->extra_headers, sizeof resp->extra_headers, "Rpc-Status: %s\r\n",
             core_status_name(st));
    web_respond(resp, core_status_http(st), "text/plain; charset=utf-8", body,
                body ? strlen(body) : 0);
}

static void rpc_handler(void *ud, const struct web_request *req, struct web_response *resp)
{
    rpc_registry *reg = ud;
    const char *service = web_request_param(req, "service");
    const char *method = web_request_param(req, "method");
    core_err err = CORE_ERR_INIT;
    ProtobufCMessage *in = NULL, *out = NULL;
    unsigned char *packed = NULL;
    size_t packed_len = 0;

    const ProtobufCMethodDescriptor *md = rpc_registry_method(reg, service, method);
    const char *ct = web_request_header(req, "Content-Type");
    core_status st = CORE_OK;
    if (!ct || strncasecmp(ct, CONTENT_TYPE, strlen(CONTENT_TYPE)) != 0 ||
        (ct[strlen(CONTENT_TYPE)] != '\0' && ct[strlen(CONTENT_TYPE)] != ';')) {
        /* a web page can make a browser post text/plain or a form here without asking first */
        snprintf(resp->extra_headers, sizeof resp->extra_headers, "Rpc-Status: %s\r\n",
                 core_status_name(CORE_ERR_INVALID));
        char *text = core_strdup("an RPC body must be sent as " CONTENT_TYPE);
        web_respond(resp, core_refusal_http(CORE_REFUSE_MEDIA_TYPE), "text/plain; charset=utf-8",
                    text, text ? strlen(text) : 0);
        return;
    }
    if (!md)
        st = core_err_set(&err, CORE_ERR_NOT_FOUND, "no RPC method %s/%s", service, method);
    if (st == CORE_OK)
        st = pb_unpack(md->input, (const unsigned char *)req->body, req->body_len, &in, &err);
    if (st == CORE_OK)
        st = rpc_invoke(reg, service, method, in, &out, &err);
    if (st == CORE_OK)
        st = pb_pack(out, &packed, &packed_len, &err);

    if (st == CORE_OK) {
        web_respond(resp, 200, CONTENT_TYPE, (char *)packed, packed_len);
    } else {
        /* the caller is another module, but still gets no internal detail: that goes to the log,
         * under the request id the caller passed on */
        if (core_status_http(st) >= 500 || err.public_msg[0])
            log_warn(COMP, "%s/%s failed: %s status=%s", service, method, err.msg,
                     core_status_name(st));
        respond_rpc_error(resp, st, core_err_client_msg(&err));
    }
    pb_free(in);
    pb_free(out);
}

core_status rpc_server_mount(rpc_registry *reg, web_server *srv, core_err *err)
{
    if (!reg || !srv)
        return core_err_set(err, CORE_ERR_INVALID, "rpc_server_mount: missing registry or server");
    return web_route(srv, "POST", "/rpc/{service}/{method}", rpc_handler, reg, err);
}

/* ---- client -------------------------------------------------------------------------------------
 */

core_status rpc_client_new(rpc_client **out, const char *host, int port, int timeout_ms,
                           core_err *err)
{
    rpc_client *c = core_calloc(1, sizeof *c);
    if (!c)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory creating an RPC client");
    core_status st = httpc_new(&c->http, host, port, timeout_ms, err);
    if (st != CORE_OK) {
        core_free(c);
        return st;
    }
    snprintf(c->where, sizeof c->where, "%s:%d", host, port);
    *out = c;
    return CORE_OK;
}

void rpc_client_free(rpc_client *c)
{
    if (!c)
        return;
    httpc_free(c->http);
    core_free(c);
}

core_status rpc_call(rpc_client *c, const ProtobufCServiceDescriptor *svc, const char *method,
                     const ProtobufCMessage *req, ProtobufCMessage **resp, core_err *err)
{
    if (!c || !svc || !method)
        return core_err_set(err, CORE_ERR_INVALID, "rpc_call: missing client, service or method");
    const ProtobufCMethodDescriptor *md =
        protobuf_c_service_descriptor_get_method_by_name(svc, method);
    if (!md)
        return core_err_set(err, CORE_ERR_INVALID, "service %s has no method %s", svc->name,
                            method);
    if (!req || req->descriptor != md->input)
        return core_err_set(err, CORE_ERR_INVALID, "method %s.%s takes a %s, not a %s", svc->name,
                            method, md->input->name, req ? req->descriptor->name : "NULL message");

    char label[64], path[512], id_header[32 + LOG_REQUEST_ID_MAX];
    unsigned char *packed = NULL;
    size_t packed_len = 0;
    struct httpc_response hr = HTTPC_RESPONSE_INIT;
    core_err herr = CORE_ERR_INIT;
    const char *headers[] = {"Content-Type: " CONTENT_TYPE, NULL, NULL};
    if (log_request_id()) { /* the request this call serves: its log lines there carry the same id
                             */
        snprintf(id_header, sizeof id_header, "X-Request-Id: %s", log_request_id());
        headers[1] = id_header;
    }

    module_name(svc, label, sizeof label);
    snprintf(path, sizeof path, "/rpc/%s/%s", svc->name, md->name);
    core_status st = pb_pack(req, &packed, &packed_len, err);
    if (st != CORE_OK)
        return st;
    st = httpc_request(c->http, "POST", path, headers, packed, packed_len, &hr, &herr);
    core_free(packed);
    /* addresses and transport detail stay in msg (logs); the API's words go to clients */
    if (st == CORE_ERR_UNAVAILABLE) {
        core_err_set(err, st, "%s RPC at %s unreachable: %s", label, c->where, herr.msg);
        core_err_public(err, "the %s module is unavailable, try again", label);
        return st; /* not core_err_public's: err may be NULL */
    }
    if (st == CORE_ERR_TOO_LARGE) /* the server's answer, not the caller's input: no 413 */
        st = CORE_ERR_IO;
    if (st != CORE_OK) {
        core_err_set(err, st, "%s RPC at %s: %s", label, c->where, herr.msg);
        core_err_public(err, "the %s module did not answer properly", label);
        return st;
    }

    if (hr.status == 200) {
        st = pb_unpack(md->output, (const unsigned char *)hr.body, hr.body_len, resp, NULL);
        if (st != CORE_OK) {
            st = core_err_set(err, CORE_ERR_IO, "malformed %s from %s RPC at %s", md->output->name,
                              label, c->where);
            core_err_public(err, "the %s module did not answer properly", label);
        }
    } else {
        const char *rpc_status = httpc_response_header(&hr, "Rpc-Status");
        if (rpc_status) {
            st = core_status_from_name(rpc_status);
            if (st == CORE_OK)
                st = CORE_ERR_INTERNAL;
            /* the remote message, unchanged, so errors cross process boundaries as they are */
            core_err_set(err, st, "%.*s",
                         (int)(hr.body_len < CORE_ERR_MSG_MAX ? hr.body_len : CORE_ERR_MSG_MAX),
                         hr.body);
        } else if (hr.status == 503) {
            st = core_err_set(err, CORE_ERR_UNAVAILABLE, "%s RPC at %s unavailable (HTTP 503)",
                              label, c->where);
            core_err_public(err, "the %s module is unavailable, try again", label);
        } else {
            st = core_err_set(err, CORE_ERR_IO, "%s RPC at %s answered HTTP %d to %s", label,
                              c->where, hr.status, path);
            core_err_public(err, "the %s module did not answer properly", label);
        }
    }
    httpc_response_release(&hr);
    return st;
}
