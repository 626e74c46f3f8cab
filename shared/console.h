/* console.h -- the lab console: a web page, served by the program itself, to read and try every
 * REST route of the running chapter, and the OpenAPI document it is built from.
 *
 * Layer: core, above web.h and openapi.h. The gateway mounts it (gateway.h) on the public web
 * server with the first gw_mount(), so every chapter's program has it without a line of its own:
 *
 *   GET /              the page (text/html): plain HTML, CSS and JavaScript from shared/console/,
 *                      embedded in the binary at build time (scripts/embed-files.sh); no CDN, no
 *                      framework, no build step for the page, works offline
 *   GET /console.js    its script         GET /console.css   its style sheet
 *   GET /favicon.ico   204 (no icon; so that a browser logs no failed load)
 *   GET /openapi.json  the OpenAPI 3 document of every route mounted so far (openapi.h), made
 *                      at each request from the route tables and the message descriptors
 *
 * The page reads /openapi.json and shows, per service, every route: method, path, the RPC method
 * that answers it, the path parameters and the body's fields with their types (proto and JSON),
 * and a form that sends the request with fetch() and shows the HTTP status, the time taken, the
 * X-Request-Id and the JSON answer. Nothing on the page is hand-written per route.
 *
 * Security: the pages are static and show nothing the API does not (no configuration, no
 * database password). They are served on the web port, so with the API's bind address (127.0.0.1
 * by default, cfg.h). Responses carry "Content-Security-Policy: default-src 'self';
 * frame-ancestors 'none'" (no inline script, nothing loaded from elsewhere, not framed by another
 * site), "X-Content-Type-Options: nosniff" and "Cache-Control: no-cache". The form sends JSON
 * with Content-Type application/json, which gateway.h requires. The script writes every value
 * received with textContent, never as HTML.
 *
 * Views: the page is a list of views (JavaScript objects in shared/console/console.js), each
 * shown as a tab when the document it needs answers 200: today the API view (/openapi.json).
 * A later view (chapter 06's events, an order's story) is one more object in that list plus the
 * routes that serve its data, added here.
 *
 * Ownership and thread-safety: console_mount() is a setup call (before web_server_start()); api is
 * borrowed and read at every request, so it must outlive the server and may still grow until the
 * server starts (the gateway's catalogue does), never after. Requests are served concurrently.
 */
#ifndef CONSOLE_H
#define CONSOLE_H

#include "core.h"
#include "openapi.h"
#include "web.h"

/* Adds the five routes above to srv. A route already taken (a chapter that serves "/" itself) ->
 * CORE_ERR_CONFLICT naming it, from web_route(). */
core_status console_mount(web_server *srv, const struct openapi_api *api, core_err *err);

/* The embedded files (generated from shared/console/ by scripts/embed-files.sh), NUL-terminated,
 * with their lengths. For tests. */
extern const char console_index_html[], console_js[], console_css[];
extern const size_t console_index_html_len, console_js_len, console_css_len;

#endif /* CONSOLE_H */
