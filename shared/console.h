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
 * shown as a tab when the document it needs answers 200: the API view (/openapi.json) always,
 * the events and story views (/asyncapi.json) when the program mounted the event feed.
 *
 * EVENTS (chapter 06 on; console_mount_events(), called by the chapter's main() after the
 * modules started, before the server starts) adds:
 *
 *   GET /console/events     the event feed, as server-sent events (text/event-stream): first
 *                           "event: hello" {history, clients, keepAliveMs}, then every message
 *                           stored on the stream ("<stream>.>": events, commands, replies, dead
 *                           letters), oldest first, one "data: {...}" each: seq, time (stored),
 *                           subject, name, id, occurredAt, payload (decoded through the registry
 *                           to the proto3 JSON mapping), metadata, dead (a dead letter's
 *                           Mallbots-Dead-* headers, without the prefix) and, for what does not
 *                           decode, raw {size, reason}. A new client gets the last
 *                           CONSOLE_FEED_HISTORY messages first, then each new one as it is
 *                           stored. "event: lost" {lost, lostTotal} says how many messages this
 *                           client missed because it read more slowly than they came (see below).
 *   GET /console/story/{id} the messages of the feed's history that mention id (as a whole JSON
 *                           string anywhere in the message: payload, metadata, or its own id), in
 *                           stream order: {id, searched, history, messages: [...]}; an id that
 *                           is not 4-64 characters of [A-Za-z0-9._-] -> 400
 *   GET /asyncapi.json      the AsyncAPI document of the registry (asyncapi.h)
 *
 * The feed's limits: the program reads the stream with ONE watch (am.h: an ordered, ephemeral
 * consumer; nothing acknowledged, no durable state, gone when the program ends), whatever the
 * number of pages open. It keeps the last CONSOLE_FEED_HISTORY messages, described once, in a
 * ring that every client reads at its own pace: a client that falls more than that far behind
 * loses the oldest and is told how many. The watch's thread appends and wakes the clients, and
 * never waits for one; each client is written by its own request's worker thread, woken by a
 * condition variable, not by a timer (a comment line every CONSOLE_FEED_KEEPALIVE_MS finds out
 * whether a quiet browser is still there). At most CONSOLE_FEED_CLIENTS clients at once: another
 * gets 503 {"code":14,"message":"the event feed serves at most 4 clients at once: ..."}. The
 * server's stop ends every feed (web_server_on_stop) and frees the watch, before main() drains the
 * stream. The history is memory only: a restarted program starts again from the last
 * CONSOLE_FEED_HISTORY messages of the stream.
 *
 * Ownership and thread-safety: console_mount() is a setup call (before web_server_start()); api is
 * borrowed and read at every request, so it must outlive the server and may still grow until the
 * server starts (the gateway's catalogue does), never after. Requests are served concurrently.
 */
#ifndef CONSOLE_H
#define CONSOLE_H

#include "am.h"
#include "core.h"
#include "es.h"
#include "openapi.h"
#include "web.h"

#define CONSOLE_FEED_CLIENTS 4          /* event feed clients at once; the next one gets 503 */
#define CONSOLE_FEED_HISTORY 1000       /* messages kept: a new client's history, the story */
#define CONSOLE_FEED_KEEPALIVE_MS 15000 /* a quiet feed's comment line (finds closed browsers) */

/* Adds the five routes above to srv. A route already taken (a chapter that serves "/" itself) ->
 * CORE_ERR_CONFLICT naming it, from web_route(). */
core_status console_mount(web_server *srv, const struct openapi_api *api, core_err *err);

/* Adds the event feed, the story and /asyncapi.json (see EVENTS above) to srv and starts the
 * watch of stream. srv: before web_server_start(), once. stream and registry are borrowed: the
 * registry must outlive srv, the stream must stay open until srv has stopped (the stop frees the
 * watch, so web_server_stop(srv) comes before am_stream_close(stream), as in main()). Errors:
 * CORE_ERR_CONFLICT (a route already taken), the stream's errors (CORE_ERR_UNAVAILABLE),
 * CORE_ERR_NOMEM; what was set up is freed with the server. */
core_status console_mount_events(web_server *srv, am_stream *stream, const es_registry *registry,
                                 core_err *err);

/* The embedded files (generated from shared/console/ by scripts/embed-files.sh), NUL-terminated,
 * with their lengths. For tests. */
extern const char console_index_html[], console_js[], console_css[];
extern const size_t console_index_html_len, console_js_len, console_css_len;

#endif /* CONSOLE_H */
