/* console.c -- the lab console's routes. See console.h. */
#include <stdio.h>
#include <string.h>

#include "console.h"
#include "pbjson.h"

#define HEADERS                                                                                    \
    "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'; base-uri 'none'\r\n"     \
    "X-Content-Type-Options: nosniff\r\n"                                                          \
    "Cache-Control: no-cache\r\n"

struct asset {
    const char *content_type;
    const char *data;
    const size_t *len;
};

static const struct asset page = {"text/html; charset=utf-8", console_index_html,
                                  &console_index_html_len};
static const struct asset script = {"text/javascript; charset=utf-8", console_js, &console_js_len};
static const struct asset style = {"text/css; charset=utf-8", console_css, &console_css_len};

static void serve_asset(void *ud, const struct web_request *req, struct web_response *resp)
{
    (void)req;
    const struct asset *a = ud;
    char *body = core_malloc(*a->len + 1);
    if (!body) {
        web_respond_error(resp, CORE_ERR_NOMEM, "out of memory");
        return;
    }
    memcpy(body, a->data, *a->len + 1);
    web_respond(resp, 200, a->content_type, body, *a->len);
    snprintf(resp->extra_headers, sizeof resp->extra_headers, "%s", HEADERS);
}

static void serve_openapi(void *ud, const struct web_request *req, struct web_response *resp)
{
    const struct openapi_api *api = ud;
    core_err err = CORE_ERR_INIT;
    json_t *doc = NULL;
    char *text = NULL;
    size_t len = 0;
    core_status st = openapi_document(api, &doc, &err);
    if (st == CORE_OK)
        st = pbjson_dump(doc, &text, &len, &err);
    json_decref(doc);
    if (st != CORE_OK) {
        web_respond_failure(resp, &err, "GET /openapi.json");
        return;
    }
    web_respond(resp, 200, "application/json", text, len);
    snprintf(resp->extra_headers, sizeof resp->extra_headers, "%s", HEADERS);
    (void)req;
}

/* Browsers ask for /favicon.ico by themselves: nothing to show, and no 404 in their console. */
static void serve_no_icon(void *ud, const struct web_request *req, struct web_response *resp)
{
    (void)ud;
    (void)req;
    web_respond(resp, 204, "image/x-icon", NULL, 0);
}

core_status console_mount(web_server *srv, const struct openapi_api *api, core_err *err)
{
    static const struct {
        const char *path;
        const struct asset *asset;
    } files[] = {{"/", &page}, {"/console.js", &script}, {"/console.css", &style}};
    core_status st = CORE_OK;
    for (size_t i = 0; st == CORE_OK && i < sizeof files / sizeof files[0]; i++)
        st = web_route(srv, "GET", files[i].path, serve_asset, (void *)files[i].asset, err);
    if (st == CORE_OK)
        st = web_route(srv, "GET", "/openapi.json", serve_openapi, (void *)api, err);
    if (st == CORE_OK)
        st = web_route(srv, "GET", "/favicon.ico", serve_no_icon, NULL, err);
    if (st != CORE_OK)
        core_err_wrap(err, "the console");
    return st;
}
