/* console_feed.c -- the lab console's event feed, an order's story and /asyncapi.json. See
 * console.h ("Events").
 *
 * One watch (am.h: an ordered, ephemeral consumer) hands every stored message to on_stored() on
 * the watch's thread, which describes it as one line of JSON and appends it to a ring of the
 * last CONSOLE_FEED_HISTORY messages, under the feed's mutex, and wakes the writers. Each client
 * of GET /console/events is a request whose worker thread runs write_feed(): it sleeps on the
 * feed's condition variable, wakes for a new message (or the stop, or the keep-alive deadline),
 * takes references to the messages after its cursor and writes them with the mutex released. A
 * client that falls more than the ring's length behind loses the oldest: its cursor jumps to the
 * oldest message still in the ring and it is told how many it lost. So the watch's thread never
 * waits for a client: appending is O(1), and the item a slow writer still holds is freed by the
 * last reference.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "asyncapi.h"
#include "console.h"
#include "log.h"
#include "pbjson.h"

#define COMP "console"
#define BATCH 64        /* messages a writer takes per wake-up */
#define STORY_ID_MIN 4  /* an id shorter than this would match nearly everything */
#define STORY_ID_MAX 64 /* as a request id: [A-Za-z0-9._-] */
#define RAW_REASON_MAX 160

#define HEADERS                                                                                    \
    "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'; base-uri 'none'\r\n"     \
    "X-Content-Type-Options: nosniff\r\n"

/* One message as the page shows it: a line of JSON, shared by the ring and the writers. */
struct item {
    atomic_int refs;
    uint64_t seq;
    size_t len;
    char text[]; /* NUL-terminated */
};

struct feed {
    am_stream *stream;      /* borrowed */
    const es_registry *reg; /* borrowed */
    am_watch *watch;        /* freed by the stop hook */
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a new message, or the stop */
    struct item *ring[CONSOLE_FEED_HISTORY];
    uint64_t total;       /* messages ever appended; message k is ring[k % HISTORY] */
    int clients;          /* writers running now */
    bool closing;         /* the server is stopping: writers return */
    uint64_t undescribed; /* messages left out for lack of memory */
};

static void item_release(struct item *it)
{
    if (it && atomic_fetch_sub(&it->refs, 1) == 1)
        core_free(it);
}

/* ---- describing a stored message ------------------------------------------------------------ */

static void set_text(json_t *o, const char *key, const char *value)
{
    if (!value)
        return;
    json_object_set_new(
        o, key, json_string(pbjson_utf8_valid(value, strlen(value)) ? value : "(not UTF-8)"));
}

static void set_time(json_t *o, const char *key, int64_t sec, int32_t nanos)
{
    char text[PBJSON_TIMESTAMP_MAX];
    if (sec > 0 && pbjson_timestamp_format(sec, nanos, text, NULL) == CORE_OK)
        set_text(o, key, text);
}

static void set_raw(json_t *o, size_t len, const char *reason)
{
    char why[RAW_REASON_MAX];
    core_strlcpy(why, reason, sizeof why);
    pbjson_make_utf8(why);
    json_t *raw = json_object();
    json_object_set_new(raw, "size", json_integer((json_int_t)len));
    set_text(raw, "reason", why);
    json_object_set_new(o, "raw", raw);
}

/* {"seq", "time", "subject", "name", "id", "occurredAt", "payload", "metadata", "dead", "raw"}:
 * what the stream stored, decoded as far as it goes (a part that does not decode is "raw", with
 * the reason). NULL only when memory ran out. */
static json_t *describe(const es_registry *reg, const struct am_stored_msg *m)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "seq", json_integer((json_int_t)m->seq));
    set_time(o, "time", m->time_ns / 1000000000,
             (int32_t)((m->time_ns % 1000000000) / 1000000 * 1000000));
    set_text(o, "subject", m->subject);
    json_t *dead = NULL;
    for (size_t i = 0; i < m->n_headers; i++)
        if (strncmp(m->headers[i].key, "Mallbots-Dead-", 14) == 0) {
            if (!dead && !(dead = json_object()))
                break;
            set_text(dead, m->headers[i].key + 14, m->headers[i].value);
        }
    if (dead)
        json_object_set_new(o, "dead", dead);

    struct am_envelope env = AM_ENVELOPE_INIT;
    core_err err = CORE_ERR_INIT;
    if (am_stream_message_unpack(m->data, m->len, &env, &err) != CORE_OK) {
        set_raw(o, m->len, err.msg);
        return o;
    }
    set_text(o, "name", env.name);
    set_text(o, "id", env.id);
    ddd_event *ev = NULL;
    json_t *payload = NULL;
    core_status st = am_data_unpack(reg, env.id, env.name, env.data, env.len, &ev, &err);
    if (st == CORE_OK && ddd_event_payload(ev))
        st = pbjson_to_json(ddd_event_payload(ev), &payload, &err);
    if (st != CORE_OK) {
        set_raw(o, env.len, err.msg);
    } else {
        struct timespec at = ddd_event_occurred_at(ev);
        set_time(o, "occurredAt", at.tv_sec, (int32_t)at.tv_nsec);
        json_object_set_new(o, "payload", payload ? payload : json_object());
        json_t *md = json_object();
        for (size_t i = 0; md && i < ddd_event_metadata_count(ev); i++) {
            const char *k, *v;
            ddd_event_metadata_at(ev, i, &k, &v);
            if (pbjson_utf8_valid(k, strlen(k)))
                set_text(md, k, v);
        }
        if (md)
            json_object_set_new(o, "metadata", md);
    }
    ddd_event_free(ev);
    am_envelope_release(&env);
    return o;
}

/* ---- the watch: one message in ----------------------------------------------------------------
 */

static core_status on_stored(void *ud, const struct am_stored_msg *m, core_err *err)
{
    (void)err;
    struct feed *f = ud;
    json_t *o = describe(f->reg, m);
    char *text = NULL;
    size_t len = 0;
    core_err derr = CORE_ERR_INIT;
    struct item *it = NULL;
    if (o && pbjson_dump(o, &text, &len, &derr) == CORE_OK &&
        (it = core_malloc(sizeof *it + len + 1))) {
        atomic_init(&it->refs, 1);
        it->seq = m->seq;
        it->len = len;
        memcpy(it->text, text, len + 1);
    }
    json_decref(o);
    core_free(text);
    pthread_mutex_lock(&f->mu);
    if (it) {
        size_t slot = (size_t)(f->total % CONSOLE_FEED_HISTORY);
        struct item *old = f->ring[slot];
        f->ring[slot] = it;
        f->total++;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        item_release(old); /* freed here unless a writer still holds it */
    } else {
        f->undescribed++;
        pthread_mutex_unlock(&f->mu);
        log_warn(COMP, "event feed: message seq=%" PRIu64 " left out (out of memory)", m->seq);
    }
    return CORE_OK; /* a watch that returns an error stops: the feed goes on */
}

/* The count of the oldest message still in the ring. Under mu. */
static uint64_t oldest(const struct feed *f)
{
    return f->total > CONSOLE_FEED_HISTORY ? f->total - CONSOLE_FEED_HISTORY : 0;
}

/* ---- GET /console/events ----------------------------------------------------------------------
 */

struct client {
    struct feed *feed;
    struct web_stream_spec spec;
    uint64_t cursor; /* the count of the next message to send */
    uint64_t lost;   /* messages that left the ring before this client read them */
};

static bool write_text(web_stream *s, const char *a, const char *b, size_t blen, const char *c)
{
    return web_stream_write(s, a, strlen(a)) && web_stream_write(s, b, blen) &&
           web_stream_write(s, c, strlen(c));
}

static void deadline_after(struct timespec *t, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, t);
    t->tv_sec += ms / 1000;
    t->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

/* The writer of one client, on its request's worker thread: see the top. */
static void write_feed(void *ud, web_stream *s)
{
    struct client *c = ud;
    struct feed *f = c->feed;
    char line[160];
    /* one write: a reader must never see half of the hello */
    int hello =
        snprintf(line, sizeof line,
                 "event: hello\ndata: {\"history\":%d,\"clients\":%d,\"keepAliveMs\":%d}\n\n",
                 CONSOLE_FEED_HISTORY, CONSOLE_FEED_CLIENTS, CONSOLE_FEED_KEEPALIVE_MS);
    bool ok = web_stream_write(s, line, (size_t)hello);
    struct timespec keepalive;
    deadline_after(&keepalive, CONSOLE_FEED_KEEPALIVE_MS);
    pthread_mutex_lock(&f->mu);
    while (ok && !f->closing) {
        if (c->cursor < f->total) {
            uint64_t lost = 0;
            if (c->cursor < oldest(f)) {
                lost = oldest(f) - c->cursor;
                c->cursor = oldest(f);
                c->lost += lost;
            }
            struct item *batch[BATCH];
            size_t n = 0;
            for (; n < BATCH && c->cursor < f->total; n++, c->cursor++) {
                batch[n] = f->ring[c->cursor % CONSOLE_FEED_HISTORY];
                atomic_fetch_add(&batch[n]->refs, 1);
            }
            uint64_t lost_total = c->lost;
            pthread_mutex_unlock(&f->mu);
            if (lost > 0) {
                snprintf(line, sizeof line, "{\"lost\":%" PRIu64 ",\"lostTotal\":%" PRIu64 "}",
                         lost, lost_total);
                ok = write_text(s, "event: lost\ndata: ", line, strlen(line), "\n\n");
            }
            for (size_t i = 0; i < n; i++) {
                ok = ok && write_text(s, "data: ", batch[i]->text, batch[i]->len, "\n\n");
                item_release(batch[i]);
            }
            deadline_after(&keepalive, CONSOLE_FEED_KEEPALIVE_MS);
            pthread_mutex_lock(&f->mu);
            continue;
        }
        /* nothing new: sleep until a message or the stop wakes us, or until the keep-alive is
         * due (a comment line that finds out whether the browser is still there) */
        if (pthread_cond_timedwait(&f->cv, &f->mu, &keepalive) == ETIMEDOUT) {
            pthread_mutex_unlock(&f->mu);
            ok = web_stream_write(s, ": keep-alive\n\n", 14);
            deadline_after(&keepalive, CONSOLE_FEED_KEEPALIVE_MS);
            pthread_mutex_lock(&f->mu);
        }
    }
    f->clients--;
    pthread_mutex_unlock(&f->mu);
    log_debug(COMP, "event feed: a client left lost=%" PRIu64, c->lost);
    core_free(c);
}

static void serve_events(void *ud, const struct web_request *req, struct web_response *resp)
{
    (void)req;
    struct feed *f = ud;
    struct client *c = core_calloc(1, sizeof *c);
    if (!c) {
        web_respond_error(resp, CORE_ERR_NOMEM, "out of memory");
        return;
    }
    pthread_mutex_lock(&f->mu);
    bool full = f->clients >= CONSOLE_FEED_CLIENTS, closing = f->closing;
    if (!full && !closing) {
        f->clients++;
        c->cursor = oldest(f); /* the history first */
    }
    pthread_mutex_unlock(&f->mu);
    if (full || closing) {
        core_free(c);
        char msg[200];
        snprintf(msg, sizeof msg,
                 "the event feed serves at most %d clients at once: close another console tab "
                 "(a closed one is noticed within %d s)",
                 CONSOLE_FEED_CLIENTS, CONSOLE_FEED_KEEPALIVE_MS / 1000);
        web_respond_error(resp, CORE_ERR_UNAVAILABLE, closing ? "server is shutting down" : msg);
        return;
    }
    c->feed = f;
    c->spec = (struct web_stream_spec){write_feed, c};
    web_respond_stream(resp, "text/event-stream; charset=utf-8", &c->spec);
    snprintf(resp->extra_headers, sizeof resp->extra_headers, "%s", HEADERS);
}

/* ---- GET /console/story/{id} ------------------------------------------------------------------
 */

static bool story_id_valid(const char *id)
{
    size_t n = strlen(id);
    return n >= STORY_ID_MIN && n <= STORY_ID_MAX &&
           strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static void serve_story(void *ud, const struct web_request *req, struct web_response *resp)
{
    struct feed *f = ud;
    const char *id = web_request_param(req, "id");
    if (!id || !story_id_valid(id)) {
        web_respond_error(resp, CORE_ERR_INVALID,
                          "an id is 4 to 64 characters of letters, digits, '.', '_' and '-'");
        return;
    }
    struct item **found = core_calloc(CONSOLE_FEED_HISTORY, sizeof *found);
    if (!found) {
        web_respond_error(resp, CORE_ERR_NOMEM, "out of memory");
        return;
    }
    size_t n = 0;
    char quoted[STORY_ID_MAX + 3];
    snprintf(quoted, sizeof quoted, "\"%s\"", id); /* a whole JSON string, not part of one */
    pthread_mutex_lock(&f->mu);
    uint64_t from = oldest(f), to = f->total;
    for (uint64_t k = from; k < to; k++) {
        struct item *it = f->ring[k % CONSOLE_FEED_HISTORY];
        /* the id as a value of the payload or the metadata; the message's own id counts too */
        if (strstr(it->text, quoted)) {
            atomic_fetch_add(&it->refs, 1);
            found[n++] = it;
        }
    }
    pthread_mutex_unlock(&f->mu);
    struct core_buf b = CORE_BUF_INIT;
    core_buf_add_fmt(&b, "{\"id\":\"%s\",\"searched\":%" PRIu64 ",\"history\":%d,\"messages\":[",
                     id, to - from, CONSOLE_FEED_HISTORY);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            core_buf_add(&b, ",", 1);
        core_buf_add(&b, found[i]->text, found[i]->len);
        item_release(found[i]);
    }
    core_free(found);
    core_buf_add_str(&b, "]}");
    size_t len = 0;
    char *text = core_buf_detach(&b, &len);
    if (!text) {
        web_respond_error(resp, CORE_ERR_NOMEM, "out of memory");
        return;
    }
    web_respond(resp, 200, "application/json", text, len);
    snprintf(resp->extra_headers, sizeof resp->extra_headers, "%sCache-Control: no-cache\r\n",
             HEADERS);
}

/* ---- GET /asyncapi.json ------------------------------------------------------------------------
 */

static void serve_asyncapi(void *ud, const struct web_request *req, struct web_response *resp)
{
    (void)req;
    struct feed *f = ud;
    core_err err = CORE_ERR_INIT;
    json_t *doc = NULL;
    char *text = NULL;
    size_t len = 0;
    core_status st = asyncapi_document(
        f->reg, "MallBots messages", am_stream_name(f->stream),
        "Every message name the program registers, on its channel (a NATS subject of the stream), "
        "with its payload's schema in the proto3 JSON mapping. Made from the program's registry of "
        "messages; the lab console's events view shows them live.",
        &doc, &err);
    if (st == CORE_OK)
        st = pbjson_dump(doc, &text, &len, &err);
    json_decref(doc);
    if (st != CORE_OK) {
        web_respond_failure(resp, &err, "GET /asyncapi.json");
        return;
    }
    web_respond(resp, 200, "application/json", text, len);
    snprintf(resp->extra_headers, sizeof resp->extra_headers, "%sCache-Control: no-cache\r\n",
             HEADERS);
}

/* ---- life cycle --------------------------------------------------------------------------------
 */

/* web_server_stop() begins: the writers return, the watch goes (before the stream is drained). */
static void feed_stop(void *ud)
{
    struct feed *f = ud;
    pthread_mutex_lock(&f->mu);
    f->closing = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    am_watch_free(f->watch); /* waits for a running on_stored() */
    f->watch = NULL;
}

static void feed_free(void *ud)
{
    struct feed *f = ud;
    am_watch_free(f->watch); /* NULL after the stop hook */
    for (size_t i = 0; i < CONSOLE_FEED_HISTORY; i++)
        item_release(f->ring[i]);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    core_free(f);
}

core_status console_mount_events(web_server *srv, am_stream *stream, const es_registry *registry,
                                 core_err *err)
{
    if (!srv || !stream || !registry)
        return core_err_set(err, CORE_ERR_INVALID,
                            "console_mount_events: a server, a stream and a registry are needed");
    struct feed *f = core_calloc(1, sizeof *f);
    if (!f)
        return core_err_nomem(err);
    f->stream = stream;
    f->reg = registry;
    pthread_mutex_init(&f->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cv, &ca);
    pthread_condattr_destroy(&ca);
    core_status st = web_server_keep(srv, f, feed_free, err); /* frees f on failure */
    if (st != CORE_OK)
        return st;
    if ((st = web_server_on_stop(srv, feed_stop, f, err)) ||
        (st = web_route(srv, "GET", "/console/events", serve_events, f, err)) ||
        (st = web_route(srv, "GET", "/console/story/{id}", serve_story, f, err)) ||
        (st = web_route(srv, "GET", "/asyncapi.json", serve_asyncapi, f, err))) {
        core_err_wrap(err, "the console's event feed");
        return st;
    }
    /* the watch starts with the last CONSOLE_FEED_HISTORY messages stored, so a page opened now
     * shows what just happened */
    struct am_stream_state state;
    if ((st = am_stream_state_get(stream, &state, err)) != CORE_OK) {
        core_err_wrap(err, "the console's event feed");
        return st;
    }
    uint64_t from =
        state.last_seq >= CONSOLE_FEED_HISTORY ? state.last_seq - CONSOLE_FEED_HISTORY + 1 : 1;
    if ((st = am_stream_watch(stream, NULL, from, on_stored, f, &f->watch, err)) != CORE_OK) {
        core_err_wrap(err, "the console's event feed");
        return st;
    }
    log_info(COMP, "event feed: watching stream=%s from_seq=%" PRIu64 " clients<=%d history=%d",
             am_stream_name(stream), from, CONSOLE_FEED_CLIENTS, CONSOLE_FEED_HISTORY);
    return CORE_OK;
}
