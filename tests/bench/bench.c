/* bench.c -- the load generator behind `make bench`: places N orders on a running MallBots with C
 * concurrent clients and reports throughput, request latency, CPU time per order of the program
 * and of PostgreSQL, PostgreSQL's commits and sessions per order and the program's peak memory.
 *
 * Usage: bench [options]   (bench --help lists them; docs/bench.md explains the figures)
 *
 * What it does, in order:
 *   1. waits until the program answers GET /api/stores (bounded by --wait);
 *   2. setup, not measured: a store of its own (participating), two products, a customer; with
 *      --reads also a basket with two items to read;
 *   3. with --reads N: N GETs of the store, then N GETs of the basket, C clients each (req/s);
 *   4. waits until pg_stat_database's counters of the program's database are still, then places
 *      N orders with C clients. One order is what a kiosk does (the curl walk of the chapter
 *      READMEs): POST /api/baskets, PUT addItem twice, POST /api/payments, PUT checkout. An order
 *      is accepted when checkout answers 200; every answer outside 2xx is counted and reported
 *      with its first body, and the order it belongs to is abandoned;
 *   5. reads the figures again (counters after they are still) and prints the report, as text or
 *      --json. Exit status 0 when every order was accepted and no request failed, 1 otherwise, 2
 *      for a usage error.
 *
 * Each client is a thread with its own httpc (one keep-alive connection). A request that gets no
 * answer at all (connection refused, timeout) stops the run: the program is gone or stuck.
 *
 * --follow (chapters 08 and 09, where an order is created and approved by messages after the
 * checkout has answered): before the orders, a watch of the stream (am.h: am_stream_watch, an
 * ordered ephemeral consumer; nothing is acknowledged and the program is not asked anything)
 * follows "<stream>.ordering.events.Order"; each ordersapi.OrderApproved whose id (the basket's:
 * the order takes its basket's id) is one of this run's orders stamps that order approved. After
 * the last checkout the tool waits for the approvals (bounded by --follow-wait without a new one),
 * and reports approved orders/s end to end (from the first order's start to the last approval),
 * checkout -> approved latency (from sending the checkout to the watch's receipt of the message)
 * and the CPU time of program, PostgreSQL and nats-server (--nats-pid) per order over the same
 * span. Every accepted order must end approved.
 *
 * --chaos (for scripts/chaos.sh): a request without an answer (the program killed, restarting)
 * abandons its order instead of stopping the run; the client pauses and goes on. --ids FILE
 * writes the id of every accepted order, one a line, as it is accepted.
 *
 * The steps of one order are in order_run().
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <jansson.h>

#include "am.h"
#include "cfg.h"
#include "core.h"
#include "httpc.h"
#include "log.h"
#include "measure.h"

#define ID_MAX 64
#define MAX_CLIENTS 256
#define MAX_ERROR_KINDS 32
#define SAMPLE_MAX 160

enum step {
    ST_START,      /* POST /api/baskets */
    ST_ADD_ITEM,   /* PUT /api/baskets/{id}/addItem */
    ST_PAYMENT,    /* POST /api/payments */
    ST_CHECKOUT,   /* PUT /api/baskets/{id}/checkout */
    ST_GET_STORE,  /* GET /api/stores/{id} */
    ST_GET_BASKET, /* GET /api/baskets/{id} */
    NSTEPS
};
#define ORDER_STEPS (ST_CHECKOUT + 1)

/* --follow: what the watch reads (chapters 08-09: ORDERING_ORDER_CHANNEL, ordersapi's name) */
#define FOLLOW_SUBJECT "mallbots.ordering.events.Order"
#define FOLLOW_EVENT "ordersapi.OrderApproved"

static const char *const step_names[NSTEPS] = {
    "POST /api/baskets",    "PUT /api/baskets/{id}/addItem",
    "POST /api/payments",   "PUT /api/baskets/{id}/checkout",
    "GET /api/stores/{id}", "GET /api/baskets/{id}",
};

struct opts {
    const char *host;
    int port;
    long orders;
    int clients;
    long reads;
    pid_t pid;           /* 0 = not given */
    const char *pg_db;   /* NULL = no PostgreSQL figures */
    const char *pg_conn; /* the statistics connection */
    int wait_s, timeout_s;
    const char *label;
    bool json, quiet;
    bool stop;        /* SIGINT to pid after the orders */
    double pg_wait_s; /* for the counters to be published (PG_STATS_IDLE_S) */
    bool follow;      /* follow each order to approved through the stream */
    const char *nats_url, *nats_stream;
    pid_t nats_pid;    /* 0 = not given: nats-server's CPU is not measured */
    int follow_wait_s; /* the longest wait for the next approval after the orders */
    bool chaos;        /* a request without an answer abandons its order, not the run */
    const char *ids;   /* file for the ids of the accepted orders; NULL = none */
};

/* Latencies of one step, in microseconds. */
struct samples {
    uint32_t *us;
    size_t n, cap;
};

struct error_kind {
    int step, status; /* status -1: no answer; 0: 2xx without the expected id */
    long count;
    char sample[SAMPLE_MAX]; /* the first answer's body or the failure */
};

/* What setup made: the order's ingredients and, with --reads, what is read. */
struct setup {
    char store[ID_MAX], product[2][ID_MAX], customer[ID_MAX], basket[ID_MAX];
    double amount; /* of one order: 2 x product 0 + 1 x product 1 */
};

/* One order followed to approved (--follow). Times are bench_now_s(); 0 = not yet. */
struct tracked {
    char id[ID_MAX];
    double checkout_t; /* the checkout request was sent */
    double approved_t; /* the watch received its ordersapi.OrderApproved */
    bool accepted;
};

struct run;

struct worker {
    struct run *run;
    httpc *http;
    pthread_t thread;
    struct samples lat[NSTEPS];
};

struct run {
    const struct opts *o;
    struct setup s;
    struct worker workers[MAX_CLIENTS];
    /* the phase that runs */
    enum step read_step; /* ST_GET_STORE / ST_GET_BASKET; ST_START = the orders */
    long count;          /* orders or reads of the phase */
    atomic_long next;    /* next index to take */
    atomic_long done, accepted, failed;
    atomic_int running; /* worker threads not finished */
    /* over the whole run */
    atomic_long requests;
    atomic_bool aborted;
    pthread_mutex_t mu; /* guards what follows */
    struct error_kind errors[MAX_ERROR_KINDS];
    int nerrors;
    long errors_dropped;                    /* failures of kinds beyond MAX_ERROR_KINDS */
    char abort_msg[CORE_ERR_MSG_MAX + 128]; /* why the run stopped early */
    /* --follow: the orders by index, and an open-addressing table id -> index + 1 */
    struct tracked *orders;
    int *slots;
    size_t nslots; /* a power of two, at least twice the orders */
    pthread_mutex_t track_mu;
    long approved;         /* orders stamped approved (under track_mu) */
    double last_approved;  /* the latest stamp (under track_mu) */
    long foreign_approved; /* approvals of orders not of this run (under track_mu) */
    /* --ids */
    FILE *ids;
};

/* ---- samples and statistics ------------------------------------------------------------------ */

static bool samples_add(struct samples *s, double us)
{
    if (core_array_grow(&s->us, &s->cap, s->n + 1, sizeof *s->us))
        return false;
    s->us[s->n++] = us < 0 ? 0 : us > 4e9 ? UINT32_MAX : (uint32_t)us;
    return true;
}

static bool samples_append(struct samples *to, const struct samples *from)
{
    for (size_t i = 0; i < from->n; i++)
        if (!samples_add(to, from->us[i]))
            return false;
    return true;
}

static void samples_release(struct samples *s)
{
    core_free(s->us);
    memset(s, 0, sizeof *s);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

struct latency {
    size_t n;
    double p50, p90, p99, max; /* milliseconds; -1 without samples */
};

/* Nearest-rank percentiles (sorts s). */
static struct latency latency_of(struct samples *s)
{
    struct latency l = {s->n, -1, -1, -1, -1};
    if (s->n == 0)
        return l;
    qsort(s->us, s->n, sizeof *s->us, cmp_u32);
    double q[3] = {0.50, 0.90, 0.99}, *out[3] = {&l.p50, &l.p90, &l.p99};
    for (int i = 0; i < 3; i++) {
        size_t rank = (size_t)ceil(q[i] * (double)s->n);
        *out[i] = s->us[rank > 0 ? rank - 1 : 0] / 1000.0;
    }
    l.max = s->us[s->n - 1] / 1000.0;
    return l;
}

/* ---- errors ---------------------------------------------------------------------------------- */

static void record_error(struct run *r, int step, int status, const char *text)
{
    pthread_mutex_lock(&r->mu);
    int i = 0;
    while (i < r->nerrors && (r->errors[i].step != step || r->errors[i].status != status))
        i++;
    if (i == r->nerrors && r->nerrors < MAX_ERROR_KINDS) {
        struct error_kind *e = &r->errors[r->nerrors++];
        e->step = step;
        e->status = status;
        core_strlcpy(e->sample, text ? text : "", sizeof e->sample);
        for (char *c = e->sample; *c; c++)
            if (*c == '\n' || *c == '\r')
                *c = ' ';
    }
    if (i < r->nerrors)
        r->errors[i].count++;
    else
        r->errors_dropped++;
    pthread_mutex_unlock(&r->mu);
}

/* Stops the run: the workers take no new order or read. The first reason is kept. */
static void abort_run(struct run *r, const char *why)
{
    pthread_mutex_lock(&r->mu);
    if (!r->abort_msg[0])
        core_strlcpy(r->abort_msg, why, sizeof r->abort_msg);
    pthread_mutex_unlock(&r->mu);
    atomic_store(&r->aborted, true);
}

static long step_errors(const struct run *r, int step)
{
    long n = 0;
    for (int i = 0; i < r->nerrors; i++)
        if (r->errors[i].step == step)
            n += r->errors[i].count;
    return n;
}

/* ---- HTTP ------------------------------------------------------------------------------------ */

/* Copies the string "id" of a JSON object body into id (ID_MAX bytes); false if there is none. */
static bool json_id(const char *body, char *id)
{
    json_t *j = json_loads(body, JSON_DECODE_ANY, NULL);
    const char *v = json_string_value(json_object_get(j, "id"));
    bool ok = v && *v && core_strlcpy(id, v, ID_MAX);
    json_decref(j);
    return ok;
}

/* Sends one request. Returns the HTTP status, or -1 when no answer came (err filled). When id is
 * not NULL and the answer is 2xx, copies its "id" into id, and returns 0 if there is none. The
 * body of the answer goes into body_out (size bytes, may be NULL). */
static int request(httpc *http, const char *method, const char *path, const char *body, char *id,
                   char *body_out, size_t size, core_err *err)
{
    static const char *const json_headers[] = {"Content-Type: application/json", NULL};
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    if (httpc_request(http, method, path, body ? json_headers : NULL, body, body ? strlen(body) : 0,
                      &resp, err))
        return -1;
    int status = resp.status;
    if (body_out)
        core_strlcpy(body_out, resp.body, size);
    if (id && status >= 200 && status <= 299 && !json_id(resp.body, id))
        status = 0;
    httpc_response_release(&resp);
    return status;
}

/* A measured request of a worker: its latency goes to step, a failure to the error table.
 * Returns true for a 2xx answer (with an id when id is given). */
static bool call(struct worker *w, enum step step, const char *method, const char *path,
                 const char *body, char *id)
{
    struct run *r = w->run;
    core_err err = CORE_ERR_INIT;
    char answer[SAMPLE_MAX];
    double t0 = bench_now_s();
    int status = request(w->http, method, path, body, id, answer, sizeof answer, &err);
    double t1 = bench_now_s();
    atomic_fetch_add(&r->requests, 1);
    if (status < 0) {
        char why[sizeof r->abort_msg];
        snprintf(why, sizeof why, "%s got no answer: %s", step_names[step], err.msg);
        record_error(r, step, -1, err.msg);
        if (r->o->chaos) /* the program is being killed: give it time, abandon the order */
            bench_sleep_ms(250);
        else
            abort_run(r, why);
        return false;
    }
    if (!samples_add(&w->lat[step], (t1 - t0) * 1e6)) {
        abort_run(r, "out of memory");
        return false;
    }
    if (status < 200 || status > 299) {
        record_error(r, step, status, answer);
        if (r->o->chaos) /* a server is down: do not run through the orders meanwhile */
            bench_sleep_ms(250);
        return false;
    }
    return true;
}

/* ---- following orders (--follow) and the ids file (--ids) ------------------------------------ */

static size_t id_hash(const char *id)
{
    size_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *c = (const unsigned char *)id; *c; c++)
        h = (h ^ *c) * 16777619u;
    return h;
}

/* Order idx has id (its basket's): remembered for the watch. */
static void track_add(struct run *r, long idx, const char *id)
{
    pthread_mutex_lock(&r->track_mu);
    struct tracked *t = &r->orders[idx];
    core_strlcpy(t->id, id, sizeof t->id);
    size_t i = id_hash(id) & (r->nslots - 1);
    while (r->slots[i])
        i = (i + 1) & (r->nslots - 1);
    r->slots[i] = (int)idx + 1;
    pthread_mutex_unlock(&r->track_mu);
}

/* Stamps the order with id approved now; an id not of this run is counted apart. */
static void track_approved(struct run *r, const char *id)
{
    double now = bench_now_s();
    pthread_mutex_lock(&r->track_mu);
    size_t i = id_hash(id) & (r->nslots - 1);
    struct tracked *t = NULL;
    for (; r->slots[i]; i = (i + 1) & (r->nslots - 1))
        if (strcmp(r->orders[r->slots[i] - 1].id, id) == 0) {
            t = &r->orders[r->slots[i] - 1];
            break;
        }
    if (!t)
        r->foreign_approved++;
    else if (t->approved_t == 0) {
        t->approved_t = now;
        r->approved++;
        r->last_approved = now;
    }
    pthread_mutex_unlock(&r->track_mu);
}

static long approved_count(struct run *r)
{
    pthread_mutex_lock(&r->track_mu);
    long n = r->approved;
    pthread_mutex_unlock(&r->track_mu);
    return n;
}

/* Protobuf wire format, the little the watch needs: the bytes of length-delimited field `field`
 * of the message p/n (the first occurrence). False when absent or the bytes are not protobuf. */
static bool pb_varint(const unsigned char **p, const unsigned char *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        unsigned char b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

static bool pb_bytes_field(const unsigned char *p, size_t n, uint32_t field,
                           const unsigned char **out, size_t *out_len)
{
    const unsigned char *end = p + n;
    while (p < end) {
        uint64_t key, v;
        if (!pb_varint(&p, end, &key))
            return false;
        switch (key & 7) {
        case 0:
            if (!pb_varint(&p, end, &v))
                return false;
            break;
        case 1:
            if (end - p < 8)
                return false;
            p += 8;
            break;
        case 2:
            if (!pb_varint(&p, end, &v) || v > (uint64_t)(end - p))
                return false;
            if ((key >> 3) == field) {
                *out = p;
                *out_len = (size_t)v;
                return true;
            }
            p += v;
            break;
        case 5:
            if (end - p < 4)
                return false;
            p += 4;
            break;
        default:
            return false;
        }
    }
    return false;
}

/* The watch's callback (nats.c's thread): an ordersapi.OrderApproved stamps its order. Its
 * StreamMessage.data is an EventMessageData{bytes payload = 1; ...}, whose payload is
 * OrderApproved{string id = 1; ...} (proto/ordering/events.proto of chapters 08 and 09). A message
 * that does not decode is not this tool's business: it is skipped. */
static core_status on_order_event(void *ud, const struct am_stored_msg *m, core_err *err)
{
    struct run *r = ud;
    struct am_envelope env = AM_ENVELOPE_INIT;
    core_err e = CORE_ERR_INIT;
    (void)err;
    if (am_stream_message_unpack(m->data, m->len, &env, &e) != CORE_OK)
        return CORE_OK;
    const unsigned char *payload, *id;
    size_t payload_len, id_len;
    if (strcmp(env.name, FOLLOW_EVENT) == 0 && env.data &&
        pb_bytes_field(env.data, env.len, 1, &payload, &payload_len) &&
        pb_bytes_field(payload, payload_len, 1, &id, &id_len) && id_len > 0 && id_len < ID_MAX) {
        char text[ID_MAX];
        memcpy(text, id, id_len);
        text[id_len] = '\0';
        track_approved(r, text);
    }
    am_envelope_release(&env);
    return CORE_OK;
}

/* Opens the stream (as it is: existing_only) and starts the watch of new order events. */
static bool follow_start(const struct opts *o, struct run *r, am_stream **stream, am_watch **watch,
                         core_err *err)
{
    struct am_js_opts jo = AM_JS_OPTS_INIT;
    log_init(LOG_LEVEL_WARN); /* the core's INFO lines (connected, ...) are not the report's */
    jo.url = o->nats_url;
    jo.stream = o->nats_stream;
    jo.name = "mallbots-bench";
    jo.existing_only = true;
    if (am_js_stream_new(stream, &jo, err)) {
        core_err_wrap(err, "--follow");
        return false;
    }
    if (am_stream_watch(*stream, FOLLOW_SUBJECT, AM_WATCH_NEW, on_order_event, r, watch, err)) {
        core_err_wrap(err, "--follow: watch of %s", FOLLOW_SUBJECT);
        return false;
    }
    return true;
}

/* --ids: one accepted order's id, a line, flushed at once (scripts/chaos.sh reads it live). */
static void ids_write(struct run *r, const char *id)
{
    pthread_mutex_lock(&r->mu);
    if (r->ids && (fprintf(r->ids, "%s\n", id) < 0 || fflush(r->ids) != 0)) {
        fclose(r->ids);
        r->ids = NULL;
        pthread_mutex_unlock(&r->mu);
        abort_run(r, "cannot write the --ids file");
        return;
    }
    pthread_mutex_unlock(&r->mu);
}

/* ---- one order, the phases ------------------------------------------------------------------- */

/* One kiosk order, the idx-th; true when checkout answered 200. */
static bool order_run(struct worker *w, long idx)
{
    struct run *r = w->run;
    const struct setup *s = &r->s;
    char basket[ID_MAX], payment[ID_MAX], path[160], body[256];
    static const int quantity[2] = {2, 1};

    snprintf(body, sizeof body, "{\"customerId\":\"%s\"}", s->customer);
    if (!call(w, ST_START, "POST", "/api/baskets", body, basket))
        return false;
    if (r->orders)
        track_add(r, idx, basket);
    snprintf(path, sizeof path, "/api/baskets/%s/addItem", basket);
    for (int i = 0; i < 2; i++) {
        snprintf(body, sizeof body, "{\"productId\":\"%s\",\"quantity\":%d}", s->product[i],
                 quantity[i]);
        if (!call(w, ST_ADD_ITEM, "PUT", path, body, NULL))
            return false;
    }
    snprintf(body, sizeof body, "{\"customerId\":\"%s\",\"amount\":%.2f}", s->customer, s->amount);
    if (!call(w, ST_PAYMENT, "POST", "/api/payments", body, payment))
        return false;
    snprintf(path, sizeof path, "/api/baskets/%s/checkout", basket);
    snprintf(body, sizeof body, "{\"paymentId\":\"%s\"}", payment);
    if (r->orders)
        r->orders[idx].checkout_t = bench_now_s();
    if (!call(w, ST_CHECKOUT, "PUT", path, body, NULL))
        return false;
    if (r->orders)
        r->orders[idx].accepted = true;
    if (r->ids)
        ids_write(r, basket);
    return true;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->run;
    char path[160];
    if (r->read_step != ST_START)
        snprintf(path, sizeof path,
                 r->read_step == ST_GET_STORE ? "/api/stores/%s" : "/api/baskets/%s",
                 r->read_step == ST_GET_STORE ? r->s.store : r->s.basket);
    long idx;
    /* --chaos: orders are placed until count were accepted (at most 3 x count + 1000 tried: a
     * failed order costs a client 0.25 s, so 1000 more tries outlast minutes of outages) */
    long tries = r->o->chaos && r->read_step == ST_START ? 3 * r->count + 1000 : r->count;
    while (!atomic_load(&r->aborted) && (idx = atomic_fetch_add(&r->next, 1)) < tries &&
           (!r->o->chaos || atomic_load(&r->accepted) < r->count)) {
        bool ok = r->read_step == ST_START ? order_run(w, idx)
                                           : call(w, r->read_step, "GET", path, NULL, NULL);
        atomic_fetch_add(ok ? &r->accepted : &r->failed, 1);
        atomic_fetch_add(&r->done, 1);
    }
    atomic_fetch_sub(&r->running, 1);
    return NULL;
}

static void progress(const struct run *r, double t0, bool final)
{
    if (r->o->quiet)
        return;
    bool tty = isatty(STDERR_FILENO);
    long done = atomic_load(&r->done), failed = atomic_load(&r->failed);
    double secs = bench_now_s() - t0;
    const char *what = r->read_step == ST_START ? "orders" : step_names[r->read_step];
    fprintf(stderr, "%sbench: %s %ld/%ld, %ld failed, %.0f/s%s", tty ? "\r" : "", what, done,
            r->count, failed, secs > 0 ? (double)(done - failed) / secs : 0.0,
            tty && !final ? "   " : "\n");
    fflush(stderr);
}

/* Runs one phase (orders, or reads of one step) with every worker; returns its wall time. */
static double phase_run(struct run *r, enum step read_step, long count)
{
    int n = r->o->clients;
    r->read_step = read_step;
    r->count = count;
    atomic_store(&r->next, 0);
    atomic_store(&r->done, 0);
    atomic_store(&r->accepted, 0);
    atomic_store(&r->failed, 0);
    atomic_store(&r->running, n);
    double t0 = bench_now_s(), last = t0;
    int started = 0;
    for (; started < n; started++) {
        if (pthread_create(&r->workers[started].thread, NULL, worker_main, &r->workers[started])) {
            atomic_fetch_sub(&r->running, n - started);
            abort_run(r, "cannot start a client thread");
            break;
        }
    }
    bool tty = isatty(STDERR_FILENO);
    while (atomic_load(&r->running) > 0) {
        bench_sleep_ms(50);
        if (bench_now_s() - last >= (tty ? 0.5 : 5.0)) {
            progress(r, t0, false);
            last = bench_now_s();
        }
    }
    for (int i = 0; i < started; i++)
        pthread_join(r->workers[i].thread, NULL);
    double secs = bench_now_s() - t0;
    if (tty || secs >= 5.0)
        progress(r, t0, true);
    return secs;
}

/* ---- setup ----------------------------------------------------------------------------------- */

/* An unmeasured request of the setup; false (err filled) unless it answered 2xx (with an id when
 * id is given). */
static bool setup_call(httpc *http, const char *method, const char *path, const char *body,
                       char *id, core_err *err)
{
    char answer[SAMPLE_MAX];
    int status = request(http, method, path, body, id, answer, sizeof answer, err);
    if (status < 0)
        core_err_wrap(err, "setup: %s %s", method, path);
    else if (status == 0)
        core_err_set(err, CORE_ERR_IO, "setup: %s %s answered without an id: %s", method, path,
                     answer);
    else if (status < 200 || status > 299)
        core_err_set(err, CORE_ERR_IO, "setup: %s %s answered %d: %s", method, path, status,
                     answer);
    return status >= 200 && status <= 299;
}

static bool setup_run(struct run *r, httpc *http, core_err *err)
{
    struct setup *s = &r->s;
    static const double price[2] = {12.5, 49.99};
    static const char *const name[2] = {"Wizard w/ crystal", "EDA with Golang"};
    char path[160], body[256];

    if (!setup_call(http, "POST", "/api/stores",
                    "{\"name\":\"Bench Bots\",\"location\":\"Load Dock\"}", s->store, err))
        return false;
    snprintf(path, sizeof path, "/api/stores/%s/participating", s->store);
    if (!setup_call(http, "PUT", path, NULL, NULL, err))
        return false;
    snprintf(path, sizeof path, "/api/stores/%s/products", s->store);
    for (int i = 0; i < 2; i++) {
        snprintf(body, sizeof body,
                 "{\"name\":\"%s\",\"description\":\"for the benchmark\",\"sku\":\"B-%d\","
                 "\"price\":%.2f}",
                 name[i], i + 1, price[i]);
        if (!setup_call(http, "POST", path, body, s->product[i], err))
            return false;
    }
    s->amount = 2 * price[0] + price[1];
    if (!setup_call(http, "POST", "/api/customers",
                    "{\"name\":\"Bench Customer\",\"smsNumber\":\"555-555-0100\"}", s->customer,
                    err))
        return false;
    if (r->o->reads == 0)
        return true;
    snprintf(body, sizeof body, "{\"customerId\":\"%s\"}", s->customer);
    if (!setup_call(http, "POST", "/api/baskets", body, s->basket, err))
        return false;
    snprintf(path, sizeof path, "/api/baskets/%s/addItem", s->basket);
    for (int i = 0; i < 2; i++) {
        snprintf(body, sizeof body, "{\"productId\":\"%s\",\"quantity\":1}", s->product[i]);
        if (!setup_call(http, "PUT", path, body, NULL, err))
            return false;
    }
    return true;
}

/* Polls GET /api/stores until it answers 200, at most o->wait_s seconds. */
static bool wait_ready(const struct opts *o, core_err *err)
{
    httpc *http = NULL;
    if (httpc_new(&http, o->host, o->port, 2000, err))
        return false;
    double deadline = bench_now_s() + o->wait_s;
    int status = -1;
    for (;;) {
        core_err e = CORE_ERR_INIT;
        status = request(http, "GET", "/api/stores", NULL, NULL, NULL, 0, &e);
        if (status == 200)
            break;
        if (o->pid && !proc_running(o->pid)) {
            core_err_set(err, CORE_ERR_UNAVAILABLE,
                         "the program (pid %d) exited before it answered on port %d", (int)o->pid,
                         o->port);
            break;
        }
        if (bench_now_s() >= deadline) {
            if (status > 0)
                core_err_set(err, CORE_ERR_UNAVAILABLE,
                             "GET /api/stores on %s:%d answers %d, not 200, after %d s", o->host,
                             o->port, status, o->wait_s);
            else
                core_err_set(err, CORE_ERR_UNAVAILABLE, "no answer on %s:%d within %d s: %s",
                             o->host, o->port, o->wait_s, e.msg);
            break;
        }
        bench_sleep_ms(100);
    }
    httpc_free(http);
    return status == 200;
}

/* ---- measuring ------------------------------------------------------------------------------- */

struct cpu_mark {
    double program_ms, pg_ms, nats_ms, self_ms; /* -1 = unknown */
};

static double self_cpu_ms(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
}

static struct cpu_mark cpu_mark(const struct opts *o, const bench_pg *pg)
{
    struct cpu_mark m = {-1, -1, -1, self_cpu_ms()};
    if (o->pid)
        m.program_ms = proc_cpu_ms(o->pid);
    if (o->nats_pid)
        m.nats_ms = proc_cpu_ms(o->nats_pid);
    if (bench_pg_postmaster(pg))
        m.pg_ms = proc_tree_cpu_ms(bench_pg_postmaster(pg));
    return m;
}

/* (after - before) / n, or -1 when a figure is unknown or n is 0. */
static double per(double before, double after, long n)
{
    return before < 0 || after < 0 || n <= 0 ? -1 : (after - before) / (double)n;
}

struct read_result {
    long count, ok;
    double secs;
    struct latency lat;
    double program_us, pg_us; /* CPU per request; -1 unknown */
};

struct report {
    long orders_ok, orders_failed;
    double secs;
    struct latency all, step[ORDER_STEPS];
    double cpu_program_ms, cpu_pg_ms, cpu_nats_ms, cpu_self_ms; /* per order; -1 unknown */
    /* --follow */
    long approved;         /* accepted orders the watch saw approved */
    double approved_secs;  /* from the start of the orders to the last approval */
    struct latency follow; /* checkout -> approved */
    double waited_s;       /* after the last checkout's answer, for the approvals */
    long foreign_approved; /* approvals of other orders (another program on the stream) */
    char follow_error[CORE_ERR_MSG_MAX + 64];
    bool have_pg;
    double commits, rollbacks, sessions;    /* per order */
    char stop_error[CORE_ERR_MSG_MAX + 64]; /* --stop failed: why */
    long rss_kb;
    struct read_result reads[2];
    double load_before[3], load_after[3];
    bool have_load;
};

/* ---- report ---------------------------------------------------------------------------------- */

static json_t *jnum(double v)
{
    return v < 0 || isnan(v) ? json_null() : json_real(round(v * 1000.0) / 1000.0);
}

/* Adds p50, p90, p99 and max to o (NULL: a new object); returns o. */
static json_t *jlatency(json_t *o, const struct latency *l)
{
    if (!o)
        o = json_object();
    json_object_set_new(o, "p50", jnum(l->p50));
    json_object_set_new(o, "p90", jnum(l->p90));
    json_object_set_new(o, "p99", jnum(l->p99));
    json_object_set_new(o, "max", jnum(l->max));
    return o;
}

static void print_json(const struct run *r, const struct report *rep)
{
    const struct opts *o = r->o;
    json_t *j = json_object(), *steps = json_array(), *errors = json_array();
    json_object_set_new(j, "label", json_string(o->label));
    json_object_set_new(j, "orders", json_integer(o->orders));
    json_object_set_new(j, "clients", json_integer(o->clients));
    json_object_set_new(j, "accepted", json_integer(rep->orders_ok));
    json_object_set_new(j, "failed", json_integer(rep->orders_failed));
    json_object_set_new(j, "seconds", jnum(rep->secs));
    json_object_set_new(j, "orders_per_s", jnum(rep->secs > 0 ? rep->orders_ok / rep->secs : -1));
    json_object_set_new(j, "requests", json_integer(atomic_load(&r->requests)));
    json_object_set_new(j, "latency_ms", jlatency(NULL, &rep->all));
    json_object_set_new(j, "follow", json_boolean(o->follow));
    if (o->follow) {
        json_object_set_new(j, "approved", json_integer(rep->approved));
        json_object_set_new(j, "approved_seconds", jnum(rep->approved_secs));
        json_object_set_new(j, "approved_per_s",
                            jnum(rep->approved_secs > 0 ? rep->approved / rep->approved_secs : -1));
        json_object_set_new(j, "checkout_to_approved_ms", jlatency(NULL, &rep->follow));
        json_object_set_new(j, "follow_waited_s", jnum(rep->waited_s));
        json_object_set_new(j, "follow_error",
                            rep->follow_error[0] ? json_string(rep->follow_error) : json_null());
    }
    for (int s = 0; s < ORDER_STEPS; s++) {
        json_t *x = json_object();
        json_object_set_new(x, "step", json_string(step_names[s]));
        json_object_set_new(x, "count", json_integer((json_int_t)rep->step[s].n));
        json_object_set_new(x, "errors", json_integer(step_errors(r, s)));
        json_array_append_new(steps, jlatency(x, &rep->step[s]));
    }
    json_object_set_new(j, "steps", steps);
    json_t *cpu = json_object();
    json_object_set_new(cpu, "program", jnum(rep->cpu_program_ms));
    json_object_set_new(cpu, "postgres", jnum(rep->cpu_pg_ms));
    json_object_set_new(cpu, "nats", jnum(rep->cpu_nats_ms));
    json_object_set_new(cpu, "total",
                        jnum(rep->cpu_program_ms < 0 || rep->cpu_pg_ms < 0 || rep->cpu_nats_ms < 0
                                 ? -1
                                 : rep->cpu_program_ms + rep->cpu_pg_ms + rep->cpu_nats_ms));
    json_object_set_new(cpu, "bench", jnum(rep->cpu_self_ms));
    json_object_set_new(j, "cpu_ms_per_order", cpu);
    json_t *pg = json_object();
    json_object_set_new(pg, "commits", jnum(rep->have_pg ? rep->commits : -1));
    json_object_set_new(pg, "rollbacks", jnum(rep->have_pg ? rep->rollbacks : -1));
    json_object_set_new(pg, "sessions", jnum(rep->have_pg ? rep->sessions : -1));
    json_object_set_new(j, "pg_per_order", pg);
    json_object_set_new(j, "peak_rss_kb",
                        rep->rss_kb >= 0 ? json_integer(rep->rss_kb) : json_null());
    json_t *reads = json_array();
    for (int i = 0; i < 2 && o->reads > 0; i++) {
        const struct read_result *x = &rep->reads[i];
        json_t *e = json_object();
        json_object_set_new(e, "step", json_string(step_names[ST_GET_STORE + i]));
        json_object_set_new(e, "count", json_integer(x->count));
        json_object_set_new(e, "ok", json_integer(x->ok));
        json_object_set_new(e, "per_s", jnum(x->secs > 0 ? x->ok / x->secs : -1));
        json_object_set_new(e, "cpu_us_program", jnum(x->program_us));
        json_object_set_new(e, "cpu_us_postgres", jnum(x->pg_us));
        json_array_append_new(reads, jlatency(e, &x->lat));
    }
    json_object_set_new(j, "reads", reads);
    for (int i = 0; i < r->nerrors; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "step", json_string(step_names[r->errors[i].step]));
        json_object_set_new(e, "status", json_integer(r->errors[i].status));
        json_object_set_new(e, "count", json_integer(r->errors[i].count));
        json_object_set_new(e, "sample", json_string(r->errors[i].sample));
        json_array_append_new(errors, e);
    }
    json_object_set_new(j, "errors", errors);
    json_object_set_new(j, "aborted", r->abort_msg[0] ? json_string(r->abort_msg) : json_null());
    json_object_set_new(j, "stop_error",
                        rep->stop_error[0] ? json_string(rep->stop_error) : json_null());
    json_t *load = json_array();
    for (int i = 0; i < 3 && rep->have_load; i++)
        json_array_append_new(load, jnum(rep->load_before[i]));
    json_object_set_new(j, "loadavg_before", load);
    load = json_array();
    for (int i = 0; i < 3 && rep->have_load; i++)
        json_array_append_new(load, jnum(rep->load_after[i]));
    json_object_set_new(j, "loadavg_after", load);
    json_object_set_new(j, "cpus", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    if (text)
        printf("%s\n", text);
    free(text);
    json_decref(j);
}

/* "12.3" or "n/a" */
static const char *fmt_num(char *buf, size_t size, double v, const char *fmt)
{
    if (v < 0 || isnan(v))
        core_strlcpy(buf, "n/a", size);
    else
        snprintf(buf, size, fmt, v);
    return buf;
}

static void print_latency(const char *what, const struct latency *l)
{
    char a[16], b[16], c[16], d[16];
    printf("  %-32s %6zu  p50 %6s  p90 %6s  p99 %6s  max %7s ms\n", what, l->n,
           fmt_num(a, sizeof a, l->p50, "%.2f"), fmt_num(b, sizeof b, l->p90, "%.2f"),
           fmt_num(c, sizeof c, l->p99, "%.2f"), fmt_num(d, sizeof d, l->max, "%.1f"));
}

static void print_text(const struct run *r, const struct report *rep)
{
    const struct opts *o = r->o;
    char a[32], b[32], c[32];
    printf("bench%s%s: %ld orders, %d clients, http://%s:%d\n", o->label[0] ? " " : "", o->label,
           o->orders, o->clients, o->host, o->port);
    for (int i = 0; i < 2 && o->reads > 0; i++) {
        const struct read_result *x = &rep->reads[i];
        printf("reads     %-24s %ld of %ld ok in %.2f s: %.0f req/s, CPU/request program %s us, "
               "PostgreSQL %s us\n",
               step_names[ST_GET_STORE + i], x->ok, x->count, x->secs,
               x->secs > 0 ? x->ok / x->secs : 0.0, fmt_num(a, sizeof a, x->program_us, "%.0f"),
               fmt_num(b, sizeof b, x->pg_us, "%.0f"));
        print_latency(step_names[ST_GET_STORE + i], &x->lat);
    }
    if (o->orders > 0) {
        printf("orders    %ld accepted, %ld failed in %.2f s: %.1f orders/s\n", rep->orders_ok,
               rep->orders_failed, rep->secs, rep->secs > 0 ? rep->orders_ok / rep->secs : 0.0);
        printf("requests  (ms)\n");
        print_latency("all requests of the orders", &rep->all);
        for (int s = 0; s < ORDER_STEPS; s++)
            print_latency(step_names[s], &rep->step[s]);
        if (o->follow) {
            printf("approved  %ld of %ld accepted in %.2f s: %.1f approved orders/s end to end "
                   "(waited %.2f s after the last checkout)\n",
                   rep->approved, rep->orders_ok, rep->approved_secs,
                   rep->approved_secs > 0 ? rep->approved / rep->approved_secs : 0.0,
                   rep->waited_s);
            print_latency("checkout -> approved", &rep->follow);
        }
        char d[32], e[32];
        printf("CPU/order program %s ms, PostgreSQL %s ms, nats-server %s ms, together %s ms "
               "(this load generator %s ms)%s\n",
               fmt_num(a, sizeof a, rep->cpu_program_ms, "%.2f"),
               fmt_num(b, sizeof b, rep->cpu_pg_ms, "%.2f"),
               fmt_num(c, sizeof c, rep->cpu_nats_ms, "%.2f"),
               fmt_num(d, sizeof d,
                       rep->cpu_program_ms < 0 || rep->cpu_pg_ms < 0 || rep->cpu_nats_ms < 0
                           ? -1
                           : rep->cpu_program_ms + rep->cpu_pg_ms + rep->cpu_nats_ms,
                       "%.2f"),
               fmt_num(e, sizeof e, rep->cpu_self_ms, "%.2f"),
               o->follow ? ", until the last approval" : "");
        if (rep->have_pg)
            printf("PostgreSQL per order: %.2f commits, %.2f rollbacks, %.3f sessions "
                   "(database %s)\n",
                   rep->commits, rep->rollbacks, rep->sessions, o->pg_db);
        else
            printf("PostgreSQL per order: n/a%s\n", o->pg_db ? "" : " (no --pg-db)");
    }
    printf("program   peak RSS %s MB (VmHWM)\n",
           fmt_num(a, sizeof a, rep->rss_kb >= 0 ? rep->rss_kb / 1024.0 : -1, "%.1f"));
    if (rep->have_load)
        printf("machine   load average %.2f %.2f %.2f before, %.2f %.2f %.2f after (%ld CPUs)\n",
               rep->load_before[0], rep->load_before[1], rep->load_before[2], rep->load_after[0],
               rep->load_after[1], rep->load_after[2], sysconf(_SC_NPROCESSORS_ONLN));
    for (int i = 0; i < r->nerrors; i++) {
        const struct error_kind *e = &r->errors[i];
        if (e->status < 0)
            printf("ERROR     %s: no answer, %ld times: %s\n", step_names[e->step], e->count,
                   e->sample);
        else if (e->status == 0)
            printf("ERROR     %s: 2xx without an id, %ld times: %s\n", step_names[e->step],
                   e->count, e->sample);
        else
            printf("ERROR     %s: HTTP %d, %ld times, first: %s\n", step_names[e->step], e->status,
                   e->count, e->sample);
    }
    if (r->errors_dropped)
        printf("ERROR     %ld more failures of other kinds\n", r->errors_dropped);
    if (r->abort_msg[0])
        printf("ABORTED   %s\n", r->abort_msg);
    if (rep->stop_error[0])
        printf("ERROR     --stop: %s\n", rep->stop_error);
    if (rep->follow_error[0])
        printf("ERROR     --follow: %s\n", rep->follow_error);
}

/* ---- options --------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench [options]   load-test a running MallBots (chapters 03-09)\n"
            "\n"
            "Places N orders with C concurrent clients, each with its own keep-alive connection.\n"
            "One order: POST /api/baskets, PUT .../addItem twice, POST /api/payments, PUT\n"
            ".../checkout; accepted when checkout answers 200. Reports orders/s, request latency\n"
            "p50/p90/p99/max, CPU ms per order of the program (--pid) and of PostgreSQL with its\n"
            "backends (--pg-db), commits and sessions per order (pg_stat_database) and the\n"
            "program's peak RSS. Every answer outside 2xx is counted and shown.\n"
            "\n"
            "  -n, --orders N      orders to place (default 1000; 0 with --reads: reads only)\n"
            "  -c, --clients C     concurrent clients (default 8, at most %d)\n"
            "  -r, --reads N       first N GETs of a store, then N of a basket (default 0)\n"
            "      --host HOST     the program's REST address (default 127.0.0.1)\n"
            "  -p, --port PORT     its REST port (default: WEB_PORT, else 8080)\n"
            "      --pid PID       its pid, for its CPU time and peak RSS (same machine)\n"
            "      --pg-db NAME    its database, for PostgreSQL's CPU time and counters\n"
            "      --pg-conn STR   the statistics connection, to ANOTHER database of the same\n"
            "                      server (default: PG_CONN, else the lab's database)\n"
            "      --wait S        wait at most S s for the program to answer (default 30)\n"
            "      --timeout S     wait at most S s for one answer (default 30)\n"
            "      --label TEXT    names the run in the report (e.g. \"ch05\")\n"
            "      --stop          after the orders, stop the program (SIGINT to --pid) and wait\n"
            "                      until it and its sessions are gone; without it the counters\n"
            "                      are read --pg-wait s after the last order\n"
            "      --pg-wait S     seconds for PostgreSQL's sessions to publish their counters\n"
            "                      (default 10.5); waited before the orders, so that the setup's\n"
            "                      commits do not count as the orders'; less is faster and\n"
            "                      counts some of them (docs/bench.md)\n"
            "      --follow        chapters 08-09: follow each order to approved through the\n"
            "                      stream (a watch of mallbots.ordering.events.Order) and report\n"
            "                      approved orders/s and checkout -> approved latency\n"
            "      --nats-url URL  the stream's server (default: NATS_URL, else the lab's)\n"
            "      --nats-stream S the stream (default: NATS_STREAM, else mallbots)\n"
            "      --nats-pid PID  nats-server's pid, for its CPU time (same machine)\n"
            "      --follow-wait S with --follow: give up when no order was approved for S s\n"
            "                      after the last checkout (default 60)\n"
            "      --chaos         a request without an answer abandons its order, not the run\n"
            "                      (after any failure the client pauses 0.25 s), and orders are\n"
            "                      placed until N were accepted (at most 3 N + 1000 tried): for\n"
            "                      scripts/chaos.sh\n"
            "      --ids FILE      write the id of every accepted order to FILE, one a line\n"
            "      --json          the report as one JSON object on stdout\n"
            "  -q, --quiet         no progress line on stderr\n"
            "      --free-ports    print two free TCP ports of 127.0.0.1 and exit\n"
            "  -h, --help          this text\n"
            "\n"
            "Exit status: 0 every order accepted, 1 a failure (reported), 2 usage.\n"
            "make bench runs it through scripts/bench.sh on a fresh database; see docs/bench.md.\n",
            MAX_CLIENTS);
}

static bool parse_long(const char *text, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* Prints two free ports of 127.0.0.1 (both held open until both are known). */
static int free_ports(void)
{
    int fds[2] = {-1, -1}, ports[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
        socklen_t len = sizeof a;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&a, sizeof a) != 0 ||
            getsockname(fds[i], (struct sockaddr *)&a, &len) != 0) {
            fprintf(stderr, "bench: cannot find a free port: %s\n", strerror(errno));
            for (int k = 0; k <= i; k++)
                if (fds[k] >= 0)
                    close(fds[k]);
            return 1;
        }
        ports[i] = ntohs(a.sin_port);
    }
    close(fds[0]);
    close(fds[1]);
    printf("%d %d\n", ports[0], ports[1]);
    return 0;
}

/* Fills o from argv; returns -1 to go on, else the exit status. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
    enum {
        O_HOST = 256,
        O_PID,
        O_PG_DB,
        O_PG_CONN,
        O_WAIT,
        O_TIMEOUT,
        O_LABEL,
        O_JSON,
        O_FREE,
        O_STOP,
        O_PG_WAIT,
        O_FOLLOW,
        O_NATS_URL,
        O_NATS_STREAM,
        O_NATS_PID,
        O_FOLLOW_WAIT,
        O_CHAOS,
        O_IDS
    };
    static const struct option longopts[] = {
        {"orders", required_argument, NULL, 'n'},
        {"clients", required_argument, NULL, 'c'},
        {"reads", required_argument, NULL, 'r'},
        {"host", required_argument, NULL, O_HOST},
        {"port", required_argument, NULL, 'p'},
        {"pid", required_argument, NULL, O_PID},
        {"pg-db", required_argument, NULL, O_PG_DB},
        {"pg-conn", required_argument, NULL, O_PG_CONN},
        {"wait", required_argument, NULL, O_WAIT},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"label", required_argument, NULL, O_LABEL},
        {"json", no_argument, NULL, O_JSON},
        {"quiet", no_argument, NULL, 'q'},
        {"free-ports", no_argument, NULL, O_FREE},
        {"stop", no_argument, NULL, O_STOP},
        {"pg-wait", required_argument, NULL, O_PG_WAIT},
        {"follow", no_argument, NULL, O_FOLLOW},
        {"nats-url", required_argument, NULL, O_NATS_URL},
        {"nats-stream", required_argument, NULL, O_NATS_STREAM},
        {"nats-pid", required_argument, NULL, O_NATS_PID},
        {"follow-wait", required_argument, NULL, O_FOLLOW_WAIT},
        {"chaos", no_argument, NULL, O_CHAOS},
        {"ids", required_argument, NULL, O_IDS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long v;
    int c;
    core_err err = CORE_ERR_INIT;
    const char *env_port = getenv("WEB_PORT");
    if (env_port && *env_port && cfg_parse_port(env_port, &o->port, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 2;
    }
    while ((c = getopt_long(argc, argv, "n:c:r:p:qh", longopts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'n':
            ok = parse_long(optarg, 0, 100000000, &o->orders);
            break;
        case 'c':
            ok = parse_long(optarg, 1, MAX_CLIENTS, &v);
            o->clients = (int)v;
            break;
        case 'r':
            ok = parse_long(optarg, 0, 100000000, &o->reads);
            break;
        case O_HOST:
            o->host = optarg;
            break;
        case 'p':
            ok = cfg_parse_port(optarg, &o->port, &err) == CORE_OK;
            break;
        case O_PID:
            ok = parse_long(optarg, 1, INT32_MAX, &v);
            o->pid = (pid_t)v;
            break;
        case O_PG_DB:
            o->pg_db = optarg;
            break;
        case O_PG_CONN:
            o->pg_conn = optarg;
            break;
        case O_WAIT:
            ok = parse_long(optarg, 1, 3600, &v);
            o->wait_s = (int)v;
            break;
        case O_TIMEOUT:
            ok = parse_long(optarg, 1, 3600, &v);
            o->timeout_s = (int)v;
            break;
        case O_LABEL:
            o->label = optarg;
            break;
        case O_JSON:
            o->json = true;
            break;
        case 'q':
            o->quiet = true;
            break;
        case O_FREE:
            return free_ports();
        case O_STOP:
            o->stop = true;
            break;
        case O_PG_WAIT:
            ok = parse_long(optarg, 0, 60, &v);
            o->pg_wait_s = (double)v;
            break;
        case O_FOLLOW:
            o->follow = true;
            break;
        case O_NATS_URL:
            o->nats_url = optarg;
            break;
        case O_NATS_STREAM:
            o->nats_stream = optarg;
            break;
        case O_NATS_PID:
            ok = parse_long(optarg, 1, INT32_MAX, &v);
            o->nats_pid = (pid_t)v;
            break;
        case O_FOLLOW_WAIT:
            ok = parse_long(optarg, 1, 3600, &v);
            o->follow_wait_s = (int)v;
            break;
        case O_CHAOS:
            o->chaos = true;
            break;
        case O_IDS:
            o->ids = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "bench: try bench --help\n");
            return 2;
        }
        if (!ok) {
            const char *name = "?";
            for (const struct option *lo = longopts; lo->name; lo++)
                if (lo->val == c)
                    name = lo->name;
            fprintf(stderr, "bench: bad value \"%s\" for --%s (see bench --help)\n", optarg, name);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bench: unexpected argument \"%s\" (see bench --help)\n", argv[optind]);
        return 2;
    }
    if (o->stop && !o->pid) {
        fprintf(stderr, "bench: --stop needs --pid\n");
        return 2;
    }
    if (o->chaos && o->follow) {
        fprintf(stderr, "bench: --chaos and --follow do not go together (a program killed under "
                        "the watch would leave approvals unseen)\n");
        return 2;
    }
    if (o->orders == 0 && o->reads == 0) {
        fprintf(stderr, "bench: nothing to do: --orders 0 needs --reads N\n");
        return 2;
    }
    return -1;
}

/* ---- main ------------------------------------------------------------------------------------ */

/* Sleeps until --pg-wait (default PG_STATS_IDLE_S) after since (a bench_now_s() time), when the
 * sessions of the program have published the counters of what they did before since (see
 * measure.h). */
static void wait_counters(const struct opts *o, double since, const char *what)
{
    double left = since + o->pg_wait_s - bench_now_s();
    if (left <= 0)
        return;
    if (!o->quiet)
        fprintf(stderr, "bench: waiting %.1f s for PostgreSQL to publish the counters of %s\n",
                left, what);
    bench_sleep_ms((int)(left * 1000.0) + 1);
}

/* --stop: SIGINT to the program, then waits (bounded) until it has exited and every session of its
 * database has ended. Fills problem (size bytes) when something of that failed. */
static void stop_program(const struct opts *o, bench_pg *pg, char *problem, size_t size)
{
    core_err err = CORE_ERR_INIT;
    long open = 0;
    if (kill(o->pid, SIGINT) != 0 && errno != ESRCH) {
        snprintf(problem, size, "cannot send SIGINT to pid %d: %s", (int)o->pid, strerror(errno));
        return;
    }
    double deadline = bench_now_s() + 30;
    while (proc_running(o->pid)) {
        if (bench_now_s() >= deadline) {
            snprintf(problem, size, "pid %d did not exit within 30 s of SIGINT", (int)o->pid);
            return;
        }
        bench_sleep_ms(20);
    }
    deadline = bench_now_s() + 10;
    while (pg) {
        if (bench_pg_sessions_open(pg, &open, &err)) {
            core_strlcpy(problem, err.msg, size);
            return;
        }
        if (open == 0)
            return;
        if (bench_now_s() >= deadline) {
            snprintf(problem, size, "%ld sessions of %s still open 10 s after the program exited",
                     open, o->pg_db);
            return;
        }
        bench_sleep_ms(20);
    }
}

/* Runs a read phase of step and fills x. */
static void reads_run(struct run *r, bench_pg *pg, enum step step, struct read_result *x)
{
    struct cpu_mark m0 = cpu_mark(r->o, pg);
    x->secs = phase_run(r, step, r->o->reads);
    struct cpu_mark m1 = cpu_mark(r->o, pg);
    x->count = r->o->reads;
    x->ok = atomic_load(&r->accepted);
    x->program_us = per(m0.program_ms, m1.program_ms, x->ok) * 1000.0;
    x->pg_us = per(m0.pg_ms, m1.pg_ms, x->ok) * 1000.0;
    struct samples all = {0};
    for (int i = 0; i < r->o->clients; i++)
        if (!samples_append(&all, &r->workers[i].lat[step]))
            abort_run(r, "out of memory");
    x->lat = latency_of(&all);
    samples_release(&all);
}

/* --follow, after the orders: waits until every accepted order was seen approved, or
 * --follow-wait seconds passed without a new approval; fills the report's follow figures. t0: the
 * start of the orders. */
static void follow_wait(struct run *r, double t0, struct report *rep)
{
    const struct opts *o = r->o;
    double start = bench_now_s(), last_progress = start, last_note = start;
    long seen = approved_count(r), accepted = rep->orders_ok;
    while (seen < accepted) {
        bench_sleep_ms(5);
        double now = bench_now_s();
        long a = approved_count(r);
        if (a != seen) {
            seen = a;
            last_progress = now;
        }
        if (now - last_progress >= o->follow_wait_s) {
            snprintf(rep->follow_error, sizeof rep->follow_error,
                     "%ld of %ld accepted orders not approved: no approval for %d s",
                     accepted - seen, accepted, o->follow_wait_s);
            break;
        }
        if (!o->quiet && now - last_note >= 5.0) {
            fprintf(stderr, "bench: %ld of %ld accepted orders approved, waiting\n", seen,
                    accepted);
            last_note = now;
        }
    }
    rep->waited_s = bench_now_s() - start;
    struct samples lat = {0};
    pthread_mutex_lock(&r->track_mu);
    rep->approved = r->approved;
    rep->foreign_approved = r->foreign_approved;
    rep->approved_secs = r->approved ? r->last_approved - t0 : -1;
    for (long i = 0; i < o->orders; i++) {
        const struct tracked *t = &r->orders[i];
        if (t->accepted && t->approved_t > 0 &&
            !samples_add(&lat, (t->approved_t - t->checkout_t) * 1e6))
            abort_run(r, "out of memory");
    }
    pthread_mutex_unlock(&r->track_mu);
    rep->follow = latency_of(&lat);
    samples_release(&lat);
}

static int bench_main(struct run *r)
{
    const struct opts *o = r->o;
    struct report rep;
    core_err err = CORE_ERR_INIT;
    bench_pg *pg = NULL;
    struct pg_counters c0 = {0}, c1 = {0};
    int n = o->clients, rc = 1;
    am_stream *stream = NULL;
    am_watch *watch = NULL;

    memset(&rep, 0, sizeof rep);
    rep.rss_kb = -1;
    rep.have_load = proc_loadavg(rep.load_before);
    if (!wait_ready(o, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    if (o->pg_db && bench_pg_open(&pg, o->pg_conn, o->pg_db, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    if (o->pg_db && !bench_pg_postmaster(pg))
        fprintf(stderr, "bench: PostgreSQL does not run on this machine: its CPU time is not "
                        "measured\n");
    for (int i = 0; i < n; i++) {
        r->workers[i].run = r;
        if (httpc_new(&r->workers[i].http, o->host, o->port, o->timeout_s * 1000, &err)) {
            fprintf(stderr, "bench: %s\n", err.msg);
            goto out;
        }
    }
    if (!setup_run(r, r->workers[0].http, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        goto out;
    }
    if (o->follow && o->orders > 0 && !follow_start(o, r, &stream, &watch, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        goto out;
    }
    for (int i = 0; i < 2 && o->reads > 0 && !atomic_load(&r->aborted); i++)
        reads_run(r, pg, ST_GET_STORE + i, &rep.reads[i]);

    double idle_since = bench_now_s(); /* the last request so far */
    if (o->orders > 0 && !atomic_load(&r->aborted)) {
        /* the counters of the setup and the reads must not land in the orders' figures */
        if (pg) {
            wait_counters(o, idle_since, "the setup");
            if (bench_pg_counters(pg, &c0, &err)) {
                fprintf(stderr, "bench: %s\n", err.msg);
                bench_pg_free(pg);
                pg = NULL;
            }
        }
        struct cpu_mark m0 = cpu_mark(o, pg);
        double t0 = bench_now_s();
        rep.secs = phase_run(r, ST_START, o->orders);
        rep.orders_ok = atomic_load(&r->accepted);
        rep.orders_failed = atomic_load(&r->failed);
        if (watch)
            follow_wait(r, t0, &rep);
        idle_since = bench_now_s();
        struct cpu_mark m1 = cpu_mark(o, pg);
        rep.cpu_program_ms = per(m0.program_ms, m1.program_ms, rep.orders_ok);
        rep.cpu_pg_ms = per(m0.pg_ms, m1.pg_ms, rep.orders_ok);
        rep.cpu_nats_ms = per(m0.nats_ms, m1.nats_ms, rep.orders_ok);
        rep.cpu_self_ms = per(m0.self_ms, m1.self_ms, rep.orders_ok);
        struct samples all = {0};
        for (int s = 0; s < ORDER_STEPS; s++) {
            struct samples step = {0};
            for (int i = 0; i < n; i++)
                if (!samples_append(&step, &r->workers[i].lat[s]))
                    abort_run(r, "out of memory");
            if (!samples_append(&all, &step))
                abort_run(r, "out of memory");
            rep.step[s] = latency_of(&step);
            samples_release(&step);
        }
        rep.all = latency_of(&all);
        samples_release(&all);
    }
    if (o->pid)
        rep.rss_kb = proc_peak_rss_kb(o->pid);
    if (o->stop)
        stop_program(o, pg, rep.stop_error, sizeof rep.stop_error);
    if (pg && o->orders > 0 && !atomic_load(&r->aborted)) {
        if (!o->stop || rep.stop_error[0])
            wait_counters(o, idle_since, "the orders");
        if (bench_pg_counters(pg, &c1, &err)) {
            fprintf(stderr, "bench: %s\n", err.msg);
        } else {
            rep.have_pg = rep.orders_ok > 0;
            rep.commits = per((double)c0.commits, (double)c1.commits, rep.orders_ok);
            rep.rollbacks = per((double)c0.rollbacks, (double)c1.rollbacks, rep.orders_ok);
            rep.sessions = per((double)c0.sessions, (double)c1.sessions, rep.orders_ok);
        }
    }
    if (rep.have_load)
        rep.have_load = proc_loadavg(rep.load_after);
    if (o->json)
        print_json(r, &rep);
    else
        print_text(r, &rep);
    fflush(stdout);
    rc = rep.orders_ok == o->orders && r->nerrors == 0 && !r->errors_dropped && !r->abort_msg[0] &&
                 !rep.stop_error[0] && !rep.follow_error[0]
             ? 0
             : 1;
    if (rc && o->json)
        fprintf(stderr, "bench: %ld of %ld orders accepted; see \"errors\" in the report\n",
                rep.orders_ok, o->orders);
out:
    am_watch_free(watch);
    if (stream) {
        am_stream_free(stream);
        am_js_library_close();
    }
    for (int i = 0; i < n; i++) {
        httpc_free(r->workers[i].http);
        for (int s = 0; s < NSTEPS; s++)
            samples_release(&r->workers[i].lat[s]);
    }
    bench_pg_free(pg);
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o = {.host = "127.0.0.1",
                     .port = 8080,
                     .orders = 1000,
                     .clients = 8,
                     .wait_s = 30,
                     .timeout_s = 30,
                     .label = "",
                     .pg_wait_s = PG_STATS_IDLE_S,
                     .follow_wait_s = 60};
    o.nats_url =
        getenv("NATS_URL") && *getenv("NATS_URL") ? getenv("NATS_URL") : CFG_DEFAULT_NATS_URL;
    o.nats_stream =
        getenv("NATS_STREAM") && *getenv("NATS_STREAM") ? getenv("NATS_STREAM") : "mallbots";
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (!o.pg_conn)
        o.pg_conn =
            getenv("PG_CONN") && *getenv("PG_CONN") ? getenv("PG_CONN") : CFG_DEFAULT_PG_CONN;
    struct run *r = core_calloc(1, sizeof *r);
    if (!r) {
        fprintf(stderr, "bench: out of memory\n");
        return 1;
    }
    r->o = &o;
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->track_mu, NULL);
    rc = 1;
    if (o.follow && o.orders > 0) {
        r->nslots = 16;
        while (r->nslots < 2 * (size_t)o.orders)
            r->nslots *= 2;
        r->orders = core_calloc((size_t)o.orders, sizeof *r->orders);
        r->slots = core_calloc(r->nslots, sizeof *r->slots);
        if (!r->orders || !r->slots) {
            fprintf(stderr, "bench: out of memory for %ld orders to follow\n", o.orders);
            goto done;
        }
    }
    if (o.ids && !(r->ids = fopen(o.ids, "w"))) {
        fprintf(stderr, "bench: cannot write %s: %s\n", o.ids, strerror(errno));
        goto done;
    }
    rc = bench_main(r);
done:
    if (r->ids && fclose(r->ids) != 0) {
        fprintf(stderr, "bench: cannot write %s: %s\n", o.ids, strerror(errno));
        rc = 1;
    }
    core_free(r->orders);
    core_free(r->slots);
    pthread_mutex_destroy(&r->track_mu);
    pthread_mutex_destroy(&r->mu);
    core_free(r);
    return rc;
}
