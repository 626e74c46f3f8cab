/* tm_relay.c -- the outbox relay (see tm.h): one thread that moves committed outbox rows to the
 * stream.
 *
 * The thread's loop:
 *   1. (re)open the LISTEN connection if it has none (a pool of one connection of its own, so a
 *      lost connection is reopened by pg_acquire); after opening it, a pass is due (rows may have
 *      been committed while nobody listened);
 *   2. a pass: every schema that is due, in turn (relay_schema); a schema is due when a
 *      notification named it (tm_commit's payload is the schema), when its last batch was full
 *      or failed, and every schema is due after (re)opening the LISTEN connection and when the
 *      poll timer fires. So a commit in one module costs one schema's claim, not seven;
 *   3. the cleanup of published rows, when its time has come;
 *   4. sleep in poll() on the LISTEN socket and an eventfd (tm_relay_stop writes it), at most
 *      until the poll timer or the cleanup is due. A notification makes a pass due; so does the
 *      poll timer. After a failed pass the relay backs off (250 ms, doubling, at most
 *      TM_BACKOFF_MS_MAX): notifications that arrive meanwhile are read but start nothing, so an
 *      outage of the broker or the database does not make it spin.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "tm.h"

#define LOG_COMP "tm"
#define BACKOFF_MS_FIRST 250
#define LOCK_CLASS "1953326450" /* advisory lock class of the relay ("tm_r" in ASCII, as int4) */
#define RELAY_SQL_MAX 512

struct relay_schema {
    char name[TM_SCHEMA_MAX + 1];
    bool due;                      /* a pass should look at it (the thread's own) */
    char sql_claim[RELAY_SQL_MAX]; /* $1 = batch, $2 $3 = the advisory lock's class and name */
    char sql_mark[RELAY_SQL_MAX];  /* $1 = bigint[] of seqs */
};

struct tm_relay {
    pg_pool *pool;
    am_stream *stream;
    struct relay_schema *schemas;
    size_t n_schemas;
    int batch, poll_ms;
    int64_t keep_ms, cleanup_every_ms;
    pg_pool *listen_pool; /* one connection: the LISTEN one */
    pg_conn *listen;      /* held by the thread while it listens */
    int wake_fd;          /* eventfd: tm_relay_stop wakes the thread */
    pthread_t thread;
    bool running; /* the thread exists (start/stop/free only) */
    pthread_mutex_t mu;
    bool stop;                   /* under mu */
    struct tm_relay_stats stats; /* under mu */
};

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static bool stopping(tm_relay *r)
{
    pthread_mutex_lock(&r->mu);
    bool s = r->stop;
    pthread_mutex_unlock(&r->mu);
    return s;
}

/* Adds to a counter of the stats (under mu). */
#define STAT_ADD(r, field, n)                                                                      \
    do {                                                                                           \
        pthread_mutex_lock(&(r)->mu);                                                              \
        (r)->stats.field += (n);                                                                   \
        pthread_mutex_unlock(&(r)->mu);                                                            \
    } while (0)

/* ---- one pass over one schema ------------------------------------------------------------------
 */

/* "{1,2,3}" for the seqs of the acknowledged rows (caller frees), or NULL (no memory). */
static char *seq_array(const PGresult *res, const struct am_batch_ack *acks, int n)
{
    struct core_buf b = CORE_BUF_INIT;
    core_buf_add_str(&b, "{");
    bool first = true;
    for (int i = 0; i < n; i++) {
        if (acks[i].status != CORE_OK)
            continue;
        core_buf_add_fmt(&b, "%s%s", first ? "" : ",", pg_get(res, i, 0));
        first = false;
    }
    core_buf_add_str(&b, "}");
    return core_buf_detach(&b, NULL);
}

/* One transaction on schema s: claim up to batch rows, publish them, mark the acknowledged ones.
 * *claimed = rows claimed, *acked = rows marked. A failure of the database or the broker is
 * returned (the rows not acknowledged stay unpublished). */
static core_status relay_schema(tm_relay *r, const struct relay_schema *s, int *claimed, int *acked,
                                core_err *err)
{
    *claimed = *acked = 0;
    pg_conn *c = NULL;
    core_status st = pg_acquire(r->pool, &c, err);
    if (st != CORE_OK)
        return st;
    PGresult *rows = NULL;
    char batch[16];
    snprintf(batch, sizeof batch, "%d", r->batch);
    /* BEGIN and the claim (which takes the schema's advisory lock first) in one round trip; not
     * ours -> no rows */
    const char *claim_params[3] = {batch, LOCK_CLASS, s->name};
    st = pg_begin(c, err);
    if (st == CORE_OK)
        st = pg_exec(c, s->sql_claim, 3, claim_params, &rows, err);
    int n = st == CORE_OK ? PQntuples(rows) : 0;
    struct am_batch_msg *msgs = n ? core_calloc((size_t)n, sizeof *msgs) : NULL;
    struct am_batch_ack *acks = n ? core_calloc((size_t)n, sizeof *acks) : NULL;
    unsigned char **bytes = n ? core_calloc((size_t)n, sizeof *bytes) : NULL;
    if (n && (!msgs || !acks || !bytes))
        st = core_err_nomem(err);
    for (int i = 0; st == CORE_OK && i < n; i++) {
        size_t len = 0;
        bytes[i] = PQunescapeBytea((const unsigned char *)pg_get(rows, i, 4), &len);
        if (!bytes[i])
            st = core_err_nomem(err);
        msgs[i] = (struct am_batch_msg){pg_get(rows, i, 3), pg_get(rows, i, 1), pg_get(rows, i, 2),
                                        bytes[i], len};
    }
    core_err perr = CORE_ERR_INIT;
    core_status pst = CORE_OK;
    int n_acked = 0, n_dup = 0;
    if (st == CORE_OK && n > 0) {
        *claimed = n;
        pst = am_stream_publish_batch(r->stream, msgs, (size_t)n, acks, &perr);
        for (int i = 0; i < n; i++)
            if (acks[i].status == CORE_OK) {
                n_acked++;
                n_dup += acks[i].duplicate;
            }
    }
    if (st == CORE_OK && n_acked > 0) {
        char *arr = seq_array(rows, acks, n);
        const char *mark_params[1] = {arr};
        /* the mark and the COMMIT in one round trip */
        st = arr ? pg_commit_after(c, s->sql_mark, 1, mark_params, err) : core_err_nomem(err);
        core_free(arr);
    } else if (st == CORE_OK) {
        st = pg_commit(c, err);
    }
    pg_release(r->pool, c); /* rolls back what did not commit */
    if (st == CORE_OK && n_acked > 0) {
        *acked = n_acked;
        pthread_mutex_lock(&r->mu);
        r->stats.published += (uint64_t)n_acked;
        r->stats.duplicates += (uint64_t)n_dup;
        r->stats.batches++;
        pthread_mutex_unlock(&r->mu);
        log_debug(LOG_COMP, "outbox %s: published %d of %d rows (%d duplicates)", s->name, n_acked,
                  n, n_dup);
    }
    for (int i = 0; bytes && i < n; i++)
        PQfreemem(bytes[i]);
    core_free(bytes);
    core_free(msgs);
    core_free(acks);
    PQclear(rows);
    if (st != CORE_OK)
        return core_err_wrap(err, "outbox %s", s->name);
    if (pst != CORE_OK) {
        if (err)
            *err = perr;
        return core_err_wrap(err, "outbox %s: %d of %d rows stay unpublished", s->name, n - n_acked,
                             n);
    }
    return CORE_OK;
}

/* true when a schema is due. */
static bool any_due(const tm_relay *r)
{
    for (size_t i = 0; i < r->n_schemas; i++)
        if (r->schemas[i].due)
            return true;
    return false;
}

/* A pass over the schemas that are due (all of them with all). A schema stays due after a full
 * batch, all acknowledged (there may be more), and after a failure (retried after the pause). */
static core_status relay_pass(tm_relay *r, bool all)
{
    core_status first = CORE_OK;
    for (size_t i = 0; i < r->n_schemas && !stopping(r); i++) {
        struct relay_schema *s = &r->schemas[i];
        if (!all && !s->due)
            continue;
        s->due = false;
        core_err err = CORE_ERR_INIT;
        int claimed = 0, acked = 0;
        core_status st = relay_schema(r, s, &claimed, &acked, &err);
        if (st != CORE_OK) {
            STAT_ADD(r, errors, 1);
            log_warn(LOG_COMP, "relay: %s (retried after a pause)", err.msg);
            s->due = true;
            if (first == CORE_OK)
                first = st;
        } else if (claimed == r->batch && acked == claimed) {
            s->due = true;
        }
    }
    return first;
}

static void relay_cleanup(tm_relay *r)
{
    for (size_t i = 0; i < r->n_schemas; i++) {
        core_err err = CORE_ERR_INIT;
        long deleted = 0;
        if (tm_outbox_cleanup(r->pool, r->schemas[i].name, r->keep_ms, &deleted, &err) != CORE_OK)
            log_warn(LOG_COMP, "relay: %s (tried again later)", err.msg);
        else if (deleted > 0)
            log_debug(LOG_COMP, "outbox %s: deleted %ld published rows", r->schemas[i].name,
                      deleted);
    }
}

/* ---- the LISTEN connection ---------------------------------------------------------------------
 */

static void listen_close(tm_relay *r)
{
    if (!r->listen)
        return;
    PGconn *raw = pg_conn_raw(r->listen);
    if (PQstatus(raw) == CONNECTION_OK) {
        core_err err = CORE_ERR_INIT;
        pg_exec_script(r->listen, "UNLISTEN *", &err);
    }
    pg_release(r->listen_pool, r->listen); /* a broken connection is closed */
    r->listen = NULL;
}

static core_status listen_open(tm_relay *r, core_err *err)
{
    core_status st = pg_acquire(r->listen_pool, &r->listen, err);
    if (st == CORE_OK && (st = pg_exec_script(r->listen, "LISTEN " TM_NOTIFY_CHANNEL, err)))
        listen_close(r);
    return st;
}

/* Reads what the server sent on the LISTEN connection: each notification makes the schema it
 * names due; *notified = one named a schema of this relay (another program's schema, on the
 * same database, is none of its business). false when the connection is lost. */
static bool listen_drain(tm_relay *r, bool *notified)
{
    PGconn *raw = pg_conn_raw(r->listen);
    if (!PQconsumeInput(raw))
        return false;
    PGnotify *nf;
    while ((nf = PQnotifies(raw)) != NULL) {
        for (size_t i = 0; i < r->n_schemas; i++)
            if (nf->extra && strcmp(nf->extra, r->schemas[i].name) == 0) {
                r->schemas[i].due = true;
                *notified = true;
                break;
            }
        PQfreemem(nf);
    }
    return PQstatus(raw) == CONNECTION_OK;
}

static void wake_drain(tm_relay *r)
{
    uint64_t v;
    while (read(r->wake_fd, &v, sizeof v) > 0) {
    }
}

/* Sleeps until the LISTEN socket or the wake fd is readable, or timeout_ms passed (-1: no LISTEN
 * socket, only the wake fd). */
static void sleep_on(tm_relay *r, int64_t timeout_ms)
{
    struct pollfd fds[2] = {{r->wake_fd, POLLIN, 0}, {-1, POLLIN, 0}};
    if (r->listen)
        fds[1].fd = PQsocket(pg_conn_raw(r->listen));
    if (timeout_ms < 0)
        timeout_ms = 0;
    if (poll(fds, 2, timeout_ms > 60000 ? 60000 : (int)timeout_ms) < 0 && errno != EINTR)
        log_warn(LOG_COMP, "relay: poll: %s", strerror(errno));
    if (fds[0].revents)
        wake_drain(r);
}

/* ---- the thread --------------------------------------------------------------------------------
 */

static int next_backoff(int backoff_ms)
{
    backoff_ms = backoff_ms ? backoff_ms * 2 : BACKOFF_MS_FIRST;
    return backoff_ms > TM_BACKOFF_MS_MAX ? TM_BACKOFF_MS_MAX : backoff_ms;
}

static void *relay_main(void *arg)
{
    tm_relay *r = arg;
    bool due_all = false; /* every schema is due: a (re)opened LISTEN, the poll timer; a
                             notification, a full batch or a failure makes one schema due */
    int backoff_ms = 0;
    int64_t now = now_ms();
    int64_t next_poll = now + r->poll_ms, next_cleanup = now, retry_at = 0;
    while (!stopping(r)) {
        if (!r->listen) {
            core_err err = CORE_ERR_INIT;
            if (listen_open(r, &err) != CORE_OK) {
                STAT_ADD(r, errors, 1);
                backoff_ms = next_backoff(backoff_ms);
                log_warn(LOG_COMP, "relay: cannot listen for notifications: %s (again in %d ms)",
                         err.msg, backoff_ms);
                sleep_on(r, backoff_ms);
                continue;
            }
            due_all = true; /* rows may have been committed while nobody listened */
        }
        now = now_ms();
        if ((due_all || any_due(r)) && now >= retry_at) {
            bool all = due_all;
            due_all = false;
            if (relay_pass(r, all) != CORE_OK) { /* the failed schemas stay due */
                backoff_ms = next_backoff(backoff_ms);
                retry_at = now_ms() + backoff_ms;
            } else {
                backoff_ms = 0;
                retry_at = 0;
            }
            now = now_ms();
            if (all)
                next_poll = now + r->poll_ms;
        }
        if (now >= next_cleanup) {
            relay_cleanup(r);
            next_cleanup = now_ms() + r->cleanup_every_ms;
        }
        bool notified = false;
        bool ok = listen_drain(r, &notified); /* what came during the pass */
        bool due = due_all || any_due(r);
        if (ok && !notified && !(due && now >= retry_at)) {
            int64_t until = next_poll < next_cleanup ? next_poll : next_cleanup;
            if (due && retry_at < until)
                until = retry_at;
            sleep_on(r, until - now);
            if (stopping(r))
                break;
            ok = listen_drain(r, &notified);
        }
        if (!ok) {
            STAT_ADD(r, errors, 1);
            log_warn(LOG_COMP, "relay: lost the LISTEN connection; reconnecting");
            listen_close(r);
            continue;
        }
        now = now_ms();
        if (now < retry_at)
            continue; /* backing off: notifications start nothing (the retry is due anyway) */
        if (notified) {
            STAT_ADD(r, wakeups_notify, 1);
        } else if (!due && now >= next_poll) {
            STAT_ADD(r, wakeups_poll, 1);
            due_all = true;
        }
    }
    listen_close(r);
    return NULL;
}

/* ---- the handle --------------------------------------------------------------------------------
 */

core_status tm_relay_new(tm_relay **out, const struct tm_relay_opts *o, core_err *err)
{
    if (!o || !o->pool || !o->stream || !o->conninfo || !o->schemas || !o->schemas[0])
        return core_err_set(err, CORE_ERR_INVALID,
                            "relay: pool, conninfo, stream and at least one schema are required");
    if (o->batch < 0 || o->poll_ms < 0 || o->keep_ms < 0)
        return core_err_set(err, CORE_ERR_INVALID,
                            "relay: batch, poll_ms and keep_ms cannot be negative");
    size_t n = 0;
    for (; o->schemas[n]; n++)
        if (!tm_schema_valid(o->schemas[n]))
            return core_err_set(err, CORE_ERR_INVALID,
                                "relay: \"%.80s\" is not a valid outbox schema name",
                                o->schemas[n]);
    tm_relay *r = core_calloc(1, sizeof *r);
    if (!r || !(r->schemas = core_calloc(n, sizeof *r->schemas))) {
        core_free(r);
        return core_err_nomem(err);
    }
    r->wake_fd = -1;
    r->pool = o->pool;
    r->stream = o->stream;
    r->n_schemas = n;
    r->batch = o->batch ? o->batch : TM_BATCH_DEFAULT;
    r->poll_ms = o->poll_ms ? o->poll_ms : TM_POLL_MS_DEFAULT;
    r->keep_ms = o->keep_ms ? o->keep_ms : TM_KEEP_MS_DEFAULT;
    r->cleanup_every_ms = r->keep_ms / 2;
    if (r->cleanup_every_ms < 100)
        r->cleanup_every_ms = 100;
    if (r->cleanup_every_ms > 60000)
        r->cleanup_every_ms = 60000;
    for (size_t i = 0; i < n; i++) {
        struct relay_schema *s = &r->schemas[i];
        core_strlcpy(s->name, o->schemas[i], sizeof s->name);
        snprintf(s->sql_claim, sizeof s->sql_claim,
                 "WITH lock AS (SELECT pg_try_advisory_xact_lock($2::int, hashtext($3)) AS mine) "
                 "SELECT o.seq, o.id, o.name, o.subject, o.data FROM lock, \"%s\".outbox o "
                 "WHERE lock.mine AND o.published_at IS NULL ORDER BY o.seq LIMIT $1 "
                 "FOR UPDATE OF o SKIP LOCKED",
                 s->name);
        snprintf(s->sql_mark, sizeof s->sql_mark,
                 "UPDATE \"%s\".outbox SET published_at = now() WHERE seq = ANY($1::bigint[]) "
                 "AND published_at IS NULL", /* the partial index: no scan of the kept rows */
                 s->name);
    }
    if (r->keep_ms < AM_DUPLICATE_WINDOW_MS_DEFAULT)
        log_warn(LOG_COMP,
                 "relay: keep_ms %" PRId64 " is shorter than the stream's default duplicate "
                 "window (%d ms): see tm.h",
                 r->keep_ms, AM_DUPLICATE_WINDOW_MS_DEFAULT);
    core_status st = CORE_OK;
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        core_free(r->schemas);
        core_free(r);
        return core_err_set(err, CORE_ERR_NOMEM, "relay: cannot create a mutex");
    }
    r->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (r->wake_fd < 0)
        st = core_err_set(err, CORE_ERR_IO, "relay: eventfd: %s", strerror(errno));
    struct pg_pool_opts po = {.conninfo = o->conninfo, .size = 1};
    if (st == CORE_OK && (st = pg_pool_new(&r->listen_pool, &po, err)) != CORE_OK)
        core_err_wrap(err, "relay: the LISTEN connection");
    if (st != CORE_OK) {
        tm_relay_free(r);
        return st;
    }
    *out = r;
    return CORE_OK;
}

core_status tm_relay_start(tm_relay *r, core_err *err)
{
    if (r->running)
        return CORE_OK;
    pthread_mutex_lock(&r->mu);
    r->stop = false;
    pthread_mutex_unlock(&r->mu);
    int rc = pthread_create(&r->thread, NULL, relay_main, r);
    if (rc != 0)
        return core_err_set(err, CORE_ERR_IO, "relay: cannot start its thread: %s", strerror(rc));
    r->running = true;
    log_info(LOG_COMP, "relay started: %zu schemas, batch %d, poll %d ms, keep %" PRId64 " ms",
             r->n_schemas, r->batch, r->poll_ms, r->keep_ms);
    return CORE_OK;
}

void tm_relay_stop(tm_relay *r)
{
    if (!r || !r->running)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_mutex_unlock(&r->mu);
    uint64_t one = 1;
    if (write(r->wake_fd, &one, sizeof one) < 0)
        log_warn(LOG_COMP, "relay: waking the thread: %s", strerror(errno));
    pthread_join(r->thread, NULL);
    r->running = false;
}

void tm_relay_free(tm_relay *r)
{
    if (!r)
        return;
    tm_relay_stop(r);
    pg_pool_free(r->listen_pool);
    if (r->wake_fd >= 0)
        close(r->wake_fd);
    pthread_mutex_destroy(&r->mu);
    core_free(r->schemas);
    core_free(r);
}

void tm_relay_stats(tm_relay *r, struct tm_relay_stats *out)
{
    pthread_mutex_lock(&r->mu);
    *out = r->stats;
    pthread_mutex_unlock(&r->mu);
}
