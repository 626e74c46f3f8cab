/* e2e.c -- see e2e.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>

#include "cfg.h"
#include "e2e.h"
#include "natsd.h"

extern char **environ;

#define STOP_TIMEOUT_MS 15000
#define DEFAULT_READY_TIMEOUT_MS 30000
#define POLL_INTERVAL_MS 50
#define LOG_TAIL_LINES 40

struct e2e_app {
    pid_t pid;
    bool exited;   /* reaped */
    int exit_code; /* valid when exited: status, 128+signal, -1 killed after timeout */
    bool killed;   /* e2e_app_stop() had to use SIGKILL */
    bool reported; /* a non-zero exit was reported with the log tail */
    int web_port, rpc_port;
    char pg_conn[E2E_CONNINFO_MAX];
    char log_path[512];
    httpc *http;
    PGconn *sql;
    struct e2e_db db;    /* owned database (e2e_open), name "" when none */
    struct natsd broker; /* owned nats-server (e2e_open from chapter 06), when owns_broker */
    bool owns_broker;
};

/* ---- small helpers ----------------------------------------------------------------------- */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

struct e2e_text e2e_fmt(const char *fmt, ...)
{
    struct e2e_text t;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t.s, sizeof t.s, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof t.s) {
        fprintf(stderr, "e2e_fmt: text longer than %d bytes (format \"%s\")\n", E2E_TEXT_MAX - 1,
                fmt);
        abort();
    }
    return t;
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

/* Copies libpq's message (overwritten by the next call) without its trailing newline. */
static core_status pq_err(core_err *err, core_status st, PGconn *conn, const char *what)
{
    char msg[CORE_ERR_MSG_MAX];
    core_strlcpy(msg, conn ? PQerrorMessage(conn) : "out of memory", sizeof msg);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    return core_err_set(err, st, "%s: %s", what, msg);
}

/* ---- databases --------------------------------------------------------------------------- */

static const char *admin_conninfo(void)
{
    return env_or("PG_CONN", CFG_DEFAULT_PG_CONN);
}

/* Server NOTICEs ("database ... does not exist, skipping") are noise in test output. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static core_status admin_connect(PGconn **out, core_err *err)
{
    PGconn *conn = PQconnectdb(admin_conninfo());
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        core_status st = pq_err(err, CORE_ERR_UNAVAILABLE, conn,
                                "connecting with PG_CONN (is the lab up? scripts/lab.sh up)");
        PQfinish(conn);
        return st;
    }
    PQsetNoticeProcessor(conn, ignore_notice, NULL);
    *out = conn;
    return CORE_OK;
}

static core_status admin_exec(PGconn *conn, const char *sql, const char *what, core_err *err)
{
    PGresult *res = PQexec(conn, sql);
    core_status st = CORE_OK;
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        st = pq_err(err, CORE_ERR_IO, conn, what);
    PQclear(res);
    return st;
}

/* "DROP DATABASE IF EXISTS <quoted name> WITH (FORCE)" (FORCE: PostgreSQL 13+). FORCE cannot end
 * an autovacuum worker that happens to be in the database (a plain user may not signal it: SQLSTATE
 * 42501, "must be a member of the role whose process is being terminated"); such a worker is done
 * within moments, so the drop is tried again for up to 10 s. */
static core_status drop_database(PGconn *conn, const char *name, core_err *err)
{
    char *ident = PQescapeIdentifier(conn, name, strlen(name));
    if (!ident)
        return pq_err(err, CORE_ERR_IO, conn, "quoting a database name");
    char sql[E2E_DB_NAME_MAX * 2 + 64];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", ident);
    PQfreemem(ident);
    for (int attempt = 0;; attempt++) {
        PGresult *res = PQexec(conn, sql);
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        bool busy = PQresultStatus(res) != PGRES_COMMAND_OK && state &&
                    strcmp(state, "42501") == 0 && attempt < 100;
        core_status st = CORE_OK;
        if (PQresultStatus(res) != PGRES_COMMAND_OK && !busy)
            st = pq_err(err, CORE_ERR_IO, conn, "dropping the test database");
        PQclear(res);
        if (!busy)
            return st;
        sleep_ms(100);
    }
}

/* Parses "e2e_<tag>_<pid>_<n>" and returns pid, or 0 when name does not have that shape. */
static pid_t owner_pid(const char *name)
{
    size_t len = strlen(name);
    if (strncmp(name, "e2e_", 4) != 0)
        return 0;
    size_t i = len;
    while (i > 4 && isdigit((unsigned char)name[i - 1])) /* <n> */
        i--;
    if (i == len || i <= 4 || name[i - 1] != '_')
        return 0;
    size_t n_start = --i;                                /* at the '_' before <n> */
    while (i > 4 && isdigit((unsigned char)name[i - 1])) /* <pid> */
        i--;
    if (i == n_start || i <= 5 || name[i - 1] != '_') /* a non-empty <tag> precedes */
        return 0;
    long pid = strtol(name + i, NULL, 10);
    return pid > 0 ? (pid_t)pid : 0;
}

/* Drops databases of earlier test processes that are gone (crashed before their teardown). */
static void drop_orphans(PGconn *conn)
{
    PGresult *res = PQexec(conn, "SELECT datname FROM pg_database WHERE datname LIKE 'e2e\\_%'");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        const char *name = PQgetvalue(res, i, 0);
        pid_t pid = owner_pid(name);
        if (pid > 0 && pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH) {
            core_err err = CORE_ERR_INIT;
            if (drop_database(conn, name, &err) == CORE_OK)
                fprintf(stderr, "e2e: dropped database %s left by process %ld\n", name, (long)pid);
        }
    }
    PQclear(res);
}

/* Appends " key='value'" to buf (libpq quoting: backslash and quote escaped). */
static bool append_kv(char *buf, size_t size, const char *key, const char *val)
{
    size_t n = strlen(buf);
    int w = snprintf(buf + n, size - n, "%s%s='", n ? " " : "", key);
    if (w < 0 || (size_t)w >= size - n)
        return false;
    n += (size_t)w;
    for (const char *p = val; *p; p++) {
        if (n + 3 >= size)
            return false;
        if (*p == '\\' || *p == '\'')
            buf[n++] = '\\';
        buf[n++] = *p;
    }
    if (n + 2 > size)
        return false;
    buf[n++] = '\'';
    buf[n] = '\0';
    return true;
}

core_status e2e_conninfo_with(const char *base, const char *key, const char *val, char *out,
                              size_t size, core_err *err)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(base, &perr);
    if (!opts) {
        core_status st =
            core_err_set(err, CORE_ERR_INVALID, "conninfo: %s", perr ? perr : "out of memory");
        PQfreemem(perr);
        return st;
    }
    bool ok = size > 0;
    if (ok)
        out[0] = '\0';
    for (PQconninfoOption *o = opts; ok && o->keyword; o++) {
        if (strcmp(o->keyword, key) == 0 || !o->val || !*o->val)
            continue;
        ok = append_kv(out, size, o->keyword, o->val);
    }
    ok = ok && append_kv(out, size, key, val);
    PQconninfoFree(opts);
    if (!ok)
        return core_err_set(err, CORE_ERR_INVALID, "conninfo: does not fit in %zu bytes", size);
    return CORE_OK;
}

core_status e2e_db_create(struct e2e_db *db, const char *tag, core_err *err)
{
    static int counter;
    PGconn *conn = NULL;
    core_status st;

    db->name[0] = '\0';
    db->conninfo[0] = '\0';
    size_t taglen = tag ? strlen(tag) : 0;
    if (taglen == 0 || taglen > 20 ||
        strspn(tag, "abcdefghijklmnopqrstuvwxyz0123456789_") != taglen)
        return core_err_set(err, CORE_ERR_INVALID, "database tag \"%s\": want 1-20 of [a-z0-9_]",
                            tag ? tag : "");

    char name[E2E_DB_NAME_MAX];
    snprintf(name, sizeof name, "e2e_%s_%ld_%d", tag, (long)getpid(), ++counter);
    if ((st = e2e_conninfo_with(admin_conninfo(), "dbname", name, db->conninfo, sizeof db->conninfo,
                                err)) ||
        (st = admin_connect(&conn, err)))
        goto done;
    drop_orphans(conn);
    if ((st = drop_database(conn, name, err))) /* a pid reused since a crashed run */
        goto done;
    char *ident = PQescapeIdentifier(conn, name, strlen(name));
    if (!ident) {
        st = pq_err(err, CORE_ERR_IO, conn, "quoting a database name");
        goto done;
    }
    char sql[E2E_DB_NAME_MAX * 2 + 32];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", ident);
    PQfreemem(ident);
    if ((st = admin_exec(conn, sql, "creating the test database", err)))
        goto done;
    core_strlcpy(db->name, name, sizeof db->name);

done:
    PQfinish(conn);
    if (st)
        db->conninfo[0] = '\0';
    return st;
}

core_status e2e_db_drop(struct e2e_db *db, core_err *err)
{
    PGconn *conn = NULL;
    core_status st;
    if (!db || !db->name[0])
        return CORE_OK;
    if ((st = admin_connect(&conn, err)) == CORE_OK &&
        (st = drop_database(conn, db->name, err)) == CORE_OK) {
        db->name[0] = '\0';
        db->conninfo[0] = '\0';
    }
    PQfinish(conn);
    return st;
}

int e2e_scratch_open(struct e2e_scratch *s, const char *tag)
{
    core_err err = CORE_ERR_INIT;
    s->live = core_alloc_live();
    core_strlcpy(s->tag, tag ? tag : "", sizeof s->tag);
    if (e2e_db_create(&s->db, s->tag, &err) != CORE_OK) {
        fprintf(stderr, "%s: creating the test database: %s\n", s->tag, err.msg);
        return -1;
    }
    return 0;
}

int e2e_scratch_close(struct e2e_scratch *s)
{
    core_err err = CORE_ERR_INIT;
    int rc = 0;
    if (e2e_db_drop(&s->db, &err) != CORE_OK) {
        fprintf(stderr, "%s: dropping database %s: %s\n", s->tag, s->db.name, err.msg);
        rc = -1;
    }
    long leaked = core_alloc_live() - s->live;
    if (leaked != 0) {
        fprintf(stderr, "%s: %ld allocation(s) leaked\n", s->tag, leaked);
        rc = -1;
    }
    return rc;
}

/* ---- starting and stopping the program ----------------------------------------------------- */

/* Two distinct free ports: both sockets stay bound until both numbers are known. */
static core_status pick_ports(int *a, int *b, core_err *err)
{
    int fds[2] = {-1, -1};
    int ports[2] = {0, 0};
    core_status st = CORE_OK;
    for (int i = 0; i < 2 && !st; i++) {
        struct sockaddr_in sa = {0};
        socklen_t len = sizeof sa;
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa.sin_port = 0;
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&sa, sizeof sa) != 0 ||
            getsockname(fds[i], (struct sockaddr *)&sa, &len) != 0)
            st = core_err_set(err, CORE_ERR_IO, "finding a free port: %s", strerror(errno));
        else
            ports[i] = ntohs(sa.sin_port);
    }
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    *a = ports[0];
    *b = ports[1];
    return st;
}

const char *e2e_log_dir(char *buf, size_t size)
{
    const char *d = getenv("E2E_LOG_DIR");
    struct stat sb;
    if (d && *d) {
        core_strlcpy(buf, d, size);
        return buf;
    }
    if (stat("build/test-logs", &sb) == 0 && S_ISDIR(sb.st_mode))
        core_strlcpy(buf, "build/test-logs", size);
    else
        core_strlcpy(buf, "/tmp", size);
    return buf;
}

/* The environment of the child: ours minus the names we set, plus ours. NULL-terminated array
 * of core_malloc'd strings; free with free_env(). */
static const char *const app_env_names[] = {
    "PG_CONN",   "WEB_PORT",         "RPC_PORT", "WEB_HOST",    "RPC_HOST",
    "LOG_LEVEL", "SHUTDOWN_TIMEOUT", "NATS_URL", "WEB_THREADS", "RPC_THREADS"};
#define NAPP_ENV (sizeof app_env_names / sizeof app_env_names[0])

static void free_env(char **env)
{
    if (!env)
        return;
    for (char **p = env; *p; p++)
        core_free(*p);
    core_free(env);
}

static bool overridden(const char *entry)
{
    for (size_t i = 0; i < NAPP_ENV; i++) {
        size_t n = strlen(app_env_names[i]);
        if (strncmp(entry, app_env_names[i], n) == 0 && entry[n] == '=')
            return true;
    }
    return false;
}

static char **make_env(const char *const values[NAPP_ENV])
{
    size_t n = 0;
    for (char **p = environ; *p; p++)
        n++;
    char **env = core_calloc(n + NAPP_ENV + 1, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (char **p = environ; *p; p++) {
        if (overridden(*p))
            continue;
        if (!(env[k++] = core_strdup(*p)))
            goto oom;
    }
    for (size_t i = 0; i < NAPP_ENV; i++) {
        size_t len = strlen(app_env_names[i]) + strlen(values[i]) + 2;
        if (!(env[k] = core_malloc(len)))
            goto oom;
        snprintf(env[k++], len, "%s=%s", app_env_names[i], values[i]);
    }
    return env;
oom:
    free_env(env);
    return NULL;
}

/* Reaps the child if it exited; true when it has. */
static bool reap(e2e_app *app, bool block)
{
    if (app->exited)
        return true;
    int status = 0;
    pid_t r;
    do
        r = waitpid(app->pid, &status, block ? 0 : WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return false;
    app->exited = true;
    if (r < 0)
        app->exit_code = -1; /* not our child any more: cannot tell */
    else if (WIFEXITED(status))
        app->exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        app->exit_code = 128 + WTERMSIG(status);
    else
        app->exit_code = -1;
    return true;
}

bool e2e_app_running(e2e_app *app)
{
    return app && !reap(app, false);
}

void e2e_app_dump_log(const e2e_app *app, int max_lines)
{
    if (!app)
        return;
    FILE *f = fopen(app->log_path, "r");
    if (!f) {
        fprintf(stderr, "e2e: (no log at %s)\n", app->log_path);
        return;
    }
    /* Find where the last max_lines lines start: remember line starts in a ring. */
    long starts[256];
    int cap = max_lines > 0 && max_lines < 256 ? max_lines : 256;
    long count = 0;
    long pos = 0;
    int c, prev = '\n';
    while ((c = fgetc(f)) != EOF) {
        if (prev == '\n')
            starts[count++ % cap] = pos;
        prev = c;
        pos++;
    }
    long first = count > cap ? starts[count % cap] : 0;
    fprintf(stderr, "e2e: ---- last %ld lines of %s (pid %ld) ----\n",
            count < cap ? count : (long)cap, app->log_path, (long)app->pid);
    fseek(f, first, SEEK_SET);
    char line[1024];
    while (fgets(line, sizeof line, f))
        fprintf(stderr, "  | %s%s", line, strchr(line, '\n') ? "" : "\n");
    fprintf(stderr, "e2e: ---- end of log ----\n");
    fclose(f);
}

/* The child side of fork(): only async-signal-safe calls until execve. */
static void exec_child(const char *bin, char **env, int log_fd, pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(126);
    signal(SIGPIPE, SIG_DFL);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        close(devnull);
    }
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    close(log_fd);
    char *argv[] = {(char *)bin, NULL};
    execve(bin, argv, env);
    static const char msg[] = "e2e: execve of the program failed\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
    _exit(127);
}

static core_status wait_ready(e2e_app *app, const char *path, int timeout_ms, core_err *err)
{
    long long deadline = now_ms() + timeout_ms;
    char last[CORE_ERR_MSG_MAX] = "no answer yet";
    for (;;) {
        if (reap(app, false)) {
            e2e_app_dump_log(app, LOG_TAIL_LINES);
            return core_err_set(err, CORE_ERR_UNAVAILABLE,
                                "the program exited during start-up (exit code %d); log: %s",
                                app->exit_code, app->log_path);
        }
        struct httpc_response resp = HTTPC_RESPONSE_INIT;
        core_err herr = CORE_ERR_INIT;
        if (httpc_request(app->http, "GET", path, NULL, NULL, 0, &resp, &herr) == CORE_OK) {
            int status = resp.status;
            httpc_response_release(&resp);
            if (status == 200)
                return CORE_OK;
            snprintf(last, sizeof last, "GET %s answered %d", path, status);
        } else {
            core_strlcpy(last, herr.msg, sizeof last);
        }
        if (now_ms() >= deadline)
            break;
        sleep_ms(POLL_INTERVAL_MS);
    }
    e2e_app_dump_log(app, LOG_TAIL_LINES);
    return core_err_set(err, CORE_ERR_UNAVAILABLE,
                        "the program did not answer within %d ms (%s); log: %s", timeout_ms, last,
                        app->log_path);
}

core_status e2e_app_start(e2e_app **out, const struct e2e_app_opts *opts, core_err *err)
{
    e2e_app *app = NULL;
    char **env = NULL;
    int log_fd = -1;
    core_status st = CORE_OK;

    *out = NULL;
    const char *bin = opts->bin ? opts->bin : getenv("MALLBOTS_BIN");
    if (!bin || !*bin)
        return core_err_set(
            err, CORE_ERR_INVALID,
            "MALLBOTS_BIN is not set (scripts/test.sh sets it to build/san/chNN/mallbots)");
    if (access(bin, X_OK) != 0)
        return core_err_set(err, CORE_ERR_INVALID, "MALLBOTS_BIN=%s: %s", bin, strerror(errno));
    if (!opts->pg_conn || !*opts->pg_conn)
        return core_err_set(err, CORE_ERR_INVALID, "e2e_app_start: no pg_conn");

    /* A peer that closes a socket must not kill the test (e.g. a refused oversized body). */
    signal(SIGPIPE, SIG_IGN);

    if (!(app = core_calloc(1, sizeof *app)))
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    app->pid = -1;
    app->exit_code = -1;
    core_strlcpy(app->pg_conn, opts->pg_conn, sizeof app->pg_conn);
    if ((st = pick_ports(&app->web_port, &app->rpc_port, err)))
        goto fail;

    char dir[256];
    e2e_log_dir(dir, sizeof dir);
    const char *name = opts->name && *opts->name ? opts->name : "app";
    if (strcmp(dir, "/tmp") == 0)
        snprintf(app->log_path, sizeof app->log_path, "/tmp/mallbots-e2e-%s-%ld.app.log", name,
                 (long)getpid());
    else
        snprintf(app->log_path, sizeof app->log_path, "%s/%s.app.log", dir, name);
    log_fd = open(app->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        st = core_err_set(err, CORE_ERR_IO, "opening %s: %s", app->log_path, strerror(errno));
        goto fail;
    }

    char web_port[16], rpc_port[16], threads[16] = ""; /* "": not set, the program's default */
    snprintf(web_port, sizeof web_port, "%d", app->web_port);
    snprintf(rpc_port, sizeof rpc_port, "%d", app->rpc_port);
    if (opts->threads != E2E_PROGRAM_THREADS)
        snprintf(threads, sizeof threads, "%d",
                 opts->threads > 0 ? opts->threads : E2E_APP_THREADS);
    const char *values[NAPP_ENV] = {
        app->pg_conn, web_port,
        rpc_port,     "127.0.0.1",
        "127.0.0.1",  opts->log_level ? opts->log_level : env_or("LOG_LEVEL", "WARN"),
        "10s",        opts->nats_url ? opts->nats_url : env_or("NATS_URL", CFG_DEFAULT_NATS_URL),
        threads,      threads,
    };
    if (!(env = make_env(values))) {
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if ((st = httpc_new(&app->http, "127.0.0.1", app->web_port, E2E_HTTP_TIMEOUT_MS, err)))
        goto fail;

    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        st = core_err_set(err, CORE_ERR_IO, "fork: %s", strerror(errno));
        goto fail;
    }
    if (pid == 0)
        exec_child(bin, env, log_fd, parent);
    app->pid = pid;
    close(log_fd);
    log_fd = -1;
    free_env(env);
    env = NULL;

    fprintf(stderr, "e2e: started %s (pid %ld) web=127.0.0.1:%d rpc=127.0.0.1:%d log=%s\n", bin,
            (long)pid, app->web_port, app->rpc_port, app->log_path);
    int timeout = opts->ready_timeout_ms > 0 ? opts->ready_timeout_ms : DEFAULT_READY_TIMEOUT_MS;
    if ((st = wait_ready(app, opts->ready_path ? opts->ready_path : "/api/stores", timeout, err)))
        goto fail;
    *out = app;
    return CORE_OK;

fail:
    if (log_fd >= 0)
        close(log_fd);
    free_env(env);
    e2e_app_free(app);
    return st;
}

/* Waits until the child exited or timeout_ms passed; true if it exited. */
static bool wait_exit(e2e_app *app, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    while (!reap(app, false)) {
        if (now_ms() >= deadline)
            return false;
        sleep_ms(20);
    }
    return true;
}

static void close_sql(e2e_app *app)
{
    if (app->sql) {
        PQfinish(app->sql);
        app->sql = NULL;
    }
}

core_status e2e_app_stop(e2e_app *app, int *exit_code, core_err *err)
{
    core_status st = CORE_OK;
    close_sql(app);
    if (app->pid > 0 && !app->exited) {
        kill(app->pid, SIGTERM);
        if (!wait_exit(app, STOP_TIMEOUT_MS)) {
            kill(app->pid, SIGKILL);
            reap(app, true);
            app->exit_code = -1;
            app->killed = true;
            fprintf(stderr, "e2e: the program (pid %ld) ignored SIGTERM for %d ms: killed\n",
                    (long)app->pid, STOP_TIMEOUT_MS);
        } else if (app->exit_code != 0) {
            fprintf(stderr, "e2e: the program (pid %ld) exited with %d after SIGTERM\n",
                    (long)app->pid, app->exit_code);
        }
    } else if (app->pid > 0 && app->exit_code != 0 && !app->reported) {
        fprintf(stderr, "e2e: the program (pid %ld) had exited by itself with %d before the stop\n",
                (long)app->pid, app->exit_code);
    }
    if (app->pid > 0 && app->exit_code != 0 && !app->reported) {
        e2e_app_dump_log(app, LOG_TAIL_LINES);
        app->reported = true;
    }
    if (app->killed)
        st = core_err_set(err, CORE_ERR_UNAVAILABLE,
                          "the program (pid %ld) ignored SIGTERM for %d ms and was killed",
                          (long)app->pid, STOP_TIMEOUT_MS);
    if (exit_code)
        *exit_code = app->exit_code;
    return st;
}

void e2e_app_free(e2e_app *app)
{
    if (!app)
        return;
    close_sql(app);
    if (app->pid > 0 && !app->exited) {
        kill(app->pid, SIGTERM);
        if (!wait_exit(app, STOP_TIMEOUT_MS)) {
            kill(app->pid, SIGKILL);
            reap(app, true);
        }
    }
    httpc_free(app->http);
    if (app->db.name[0]) {
        core_err err = CORE_ERR_INIT;
        if (e2e_db_drop(&app->db, &err))
            fprintf(stderr, "e2e: %s\n", err.msg);
    }
    if (app->owns_broker)
        natsd_release(&app->broker);
    core_free(app);
}

struct natsd *e2e_app_broker(e2e_app *app)
{
    return app && app->owns_broker ? &app->broker : NULL;
}

/* A nats-server for the program of chapter (a number, or NULL), from chapter 06 on; *started
 * false for earlier chapters. */
static core_status open_broker(struct natsd *b, const char *chapter, const char *tag, bool *started,
                               core_err *err)
{
    *started = false;
    if (!chapter || atoi(chapter) < 6)
        return CORE_OK;
    if (natsd_init(b, tag) != 0)
        return core_err_set(err, CORE_ERR_IO, "cannot prepare a nats-server for the test");
    if (natsd_start(b) != 0 || !natsd_wait_ready(b, DEFAULT_READY_TIMEOUT_MS)) {
        natsd_release(b);
        return core_err_set(err, CORE_ERR_UNAVAILABLE,
                            "the test's nats-server did not start (is nats-server installed? "
                            "make deps)");
    }
    *started = true;
    return CORE_OK;
}

core_status e2e_open(e2e_app **out, const char *name, core_err *err)
{
    return e2e_open_threads(out, name, 0, err);
}

core_status e2e_open_threads(e2e_app **out, const char *name, int threads, core_err *err)
{
    struct e2e_db db = E2E_DB_INIT;
    core_status st;
    *out = NULL;

    /* "ch" + CHAPTER when it is a chapter number, else "test" */
    char tag[16] = "test";
    const char *chapter = getenv("CHAPTER");
    if (chapter && *chapter && strlen(chapter) <= 4 &&
        strspn(chapter, "0123456789") == strlen(chapter))
        snprintf(tag, sizeof tag, "ch%s", chapter);
    char log_name[128];
    snprintf(log_name, sizeof log_name, "%s-%s", tag, name && *name ? name : "app");

    struct natsd broker = {0};
    bool own_broker = false;
    if ((st = open_broker(&broker, chapter, log_name, &own_broker, err)))
        return st;
    if ((st = e2e_db_create(&db, tag, err))) {
        if (own_broker)
            natsd_release(&broker);
        return st;
    }
    struct e2e_app_opts opts = E2E_APP_OPTS_INIT;
    opts.name = log_name;
    opts.pg_conn = db.conninfo;
    opts.nats_url = own_broker ? broker.url : NULL;
    opts.threads = threads;
    if ((st = e2e_app_start(out, &opts, err))) {
        core_err derr = CORE_ERR_INIT;
        if (e2e_db_drop(&db, &derr))
            fprintf(stderr, "e2e: %s\n", derr.msg);
        if (own_broker)
            natsd_release(&broker);
        return st;
    }
    (*out)->db = db;
    (*out)->broker = broker;
    (*out)->owns_broker = own_broker;
    return CORE_OK;
}

core_status e2e_close(e2e_app *app, int *exit_code, core_err *err)
{
    if (!app) {
        if (exit_code)
            *exit_code = -1;
        return CORE_OK;
    }
    core_status st = e2e_app_stop(app, exit_code, err);
    core_status dst = CORE_OK;
    if (app->db.name[0]) {
        core_err derr = CORE_ERR_INIT;
        if ((dst = e2e_db_drop(&app->db, &derr)) && !st && err)
            *err = derr;
        else if (dst)
            fprintf(stderr, "e2e: %s\n", derr.msg);
    }
    e2e_app_free(app);
    return st ? st : dst;
}

/* ---- one program for a whole test file ------------------------------------------------------- */

static struct {
    const char *name;
    e2e_app **app;
} group; /* the group of e2e_run_group() */

static int group_setup(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    if (e2e_open(group.app, group.name, &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    int code = -1;
    core_err err = CORE_ERR_INIT;
    core_status st = e2e_close(*group.app, &code, &err);
    *group.app = NULL;
    if (st || code != 0) {
        fprintf(stderr, "teardown: %s (exit code %d)\n", st ? err.msg : "unclean shutdown", code);
        return -1;
    }
    return 0;
}

void e2e_shuts_down_cleanly(void **state)
{
    (void)state;
    int code = -1;
    core_err err = CORE_ERR_INIT;
    assert_non_null(group.app);
    core_status st = e2e_app_stop(*group.app, &code, &err);
    if (st)
        fprintf(stderr, "stop: %s\n", err.msg);
    assert_int_equal(st, CORE_OK);
    assert_int_equal(code, 0);
}

int e2e__run_group(const char *name, e2e_app **app, const struct CMUnitTest *tests, size_t n)
{
    group.name = name;
    group.app = app;
    int failed = _cmocka_run_group_tests("tests", tests, n, group_setup, group_teardown);
    group.app = NULL;
    return failed;
}

int e2e_app_web_port(const e2e_app *app)
{
    return app->web_port;
}

int e2e_app_rpc_port(const e2e_app *app)
{
    return app->rpc_port;
}

pid_t e2e_app_pid(const e2e_app *app)
{
    return app->pid;
}

const char *e2e_app_log_path(const e2e_app *app)
{
    return app->log_path;
}

const char *e2e_app_pg_conn(const e2e_app *app)
{
    return app->pg_conn;
}

/* ---- HTTP -------------------------------------------------------------------------------- */

core_status e2e_http(e2e_app *app, const char *method, const char *path, const char *const *headers,
                     const void *body, size_t body_len, struct httpc_response *resp, core_err *err)
{
    if (!app || !app->http)
        return core_err_set(err, CORE_ERR_UNAVAILABLE, "no program running");
    return httpc_request(app->http, method, path, headers, body, body_len, resp, err);
}

static bool tracing(void)
{
    const char *t = getenv("E2E_TRACE");
    return t && *t && strcmp(t, "0") != 0;
}

json_t *e2e_call(e2e_app *app, const char *method, const char *path, const char *body, int *status)
{
    static const char *const json_headers[] = {"Content-Type: application/json",
                                               "Accept: application/json", NULL};
    static const char *const plain_headers[] = {"Accept: application/json", NULL};
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    core_err err = CORE_ERR_INIT;
    json_t *json = NULL;

    *status = -1;
    if (tracing())
        fprintf(stderr, "e2e: > %s %s %s\n", method, path, body ? body : "");
    if (e2e_http(app, method, path, body ? json_headers : plain_headers, body,
                 body ? strlen(body) : 0, &resp, &err)) {
        fprintf(stderr, "e2e: %s %s failed: %s\n", method, path, err.msg);
        if (app && !e2e_app_running(app)) {
            fprintf(stderr, "e2e: the program is not running any more (exit code %d)\n",
                    app->exit_code);
            if (!app->reported) {
                e2e_app_dump_log(app, LOG_TAIL_LINES);
                app->reported = true;
            }
        }
        return NULL;
    }
    *status = resp.status;
    if (tracing())
        fprintf(stderr, "e2e: < %d %s\n", resp.status, resp.body);
    if (resp.body_len > 0) {
        json_error_t jerr;
        json = json_loadb(resp.body, resp.body_len, JSON_DECODE_ANY, &jerr);
        if (!json)
            fprintf(stderr, "e2e: %s %s answered %d with a body that is not JSON (%s): %.200s\n",
                    method, path, resp.status, jerr.text, resp.body);
    }
    httpc_response_release(&resp);
    return json;
}

/* ---- a request from another thread ------------------------------------------------------ */

static void copy_or_abort(char *dst, size_t size, const char *src, const char *what)
{
    if (!core_strlcpy(dst, src, size)) {
        fprintf(stderr, "e2e_request_init: %s longer than %zu bytes: %.80s...\n", what, size - 1,
                src);
        abort();
    }
}

void e2e_request_init(struct e2e_async_request *r, e2e_app *app, const char *method,
                      const char *path, const char *body)
{
    memset(r, 0, sizeof *r);
    r->port = e2e_app_web_port(app);
    copy_or_abort(r->method, sizeof r->method, method, "method");
    copy_or_abort(r->path, sizeof r->path, path, "path");
    if (body) {
        copy_or_abort(r->body, sizeof r->body, body, "body");
        r->has_body = true;
    }
    r->status = -1;
    core_strlcpy(r->error, "not sent", sizeof r->error);
}

void e2e_request_run(struct e2e_async_request *r)
{
    static const char *const json_headers[] = {"Content-Type: application/json", NULL};
    httpc *client = NULL;
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    core_err err = CORE_ERR_INIT;

    if (tracing())
        fprintf(stderr, "e2e: > %s %s %s (own thread)\n", r->method, r->path,
                r->has_body ? r->body : "");
    core_status st = httpc_new(&client, "127.0.0.1", r->port, E2E_HTTP_TIMEOUT_MS, &err);
    if (st == CORE_OK)
        st = httpc_request(client, r->method, r->path, r->has_body ? json_headers : NULL,
                           r->has_body ? r->body : NULL, r->has_body ? strlen(r->body) : 0, &resp,
                           &err);
    if (st == CORE_OK) {
        r->status = resp.status;
        r->response = core_strdup(resp.body);
        r->error[0] = '\0';
        if (tracing())
            fprintf(stderr, "e2e: < %d %s (own thread)\n", resp.status, resp.body);
    } else {
        r->status = -1;
        core_strlcpy(r->error, err.msg, sizeof r->error);
        fprintf(stderr, "e2e: %s %s failed: %s\n", r->method, r->path, err.msg);
    }
    httpc_response_release(&resp);
    httpc_free(client);
}

static void *request_thread(void *arg)
{
    e2e_request_run(arg);
    return NULL;
}

bool e2e_request_start(struct e2e_async_request *r)
{
    int rc = pthread_create(&r->thread, NULL, request_thread, r);
    if (rc != 0) {
        fprintf(stderr, "e2e: cannot start a thread for %s %s: %s\n", r->method, r->path,
                strerror(rc));
        return false;
    }
    r->started = true;
    return true;
}

void e2e_request_join(struct e2e_async_request *r)
{
    if (!r->started)
        return;
    pthread_join(r->thread, NULL);
    r->started = false;
}

void e2e_request_release(struct e2e_async_request *r)
{
    core_free(r->response);
    r->response = NULL;
}

/* ---- JSON access ------------------------------------------------------------------------- */

json_t *e2e_json_at(json_t *root, const char *path)
{
    json_t *cur = root;
    const char *p = path;
    while (cur && p && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char key[128];
        if (n >= sizeof key)
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        if (json_is_object(cur)) {
            cur = json_object_get(cur, key);
        } else if (json_is_array(cur) && n > 0 && strspn(key, "0123456789") == n) {
            cur = json_array_get(cur, (size_t)strtoul(key, NULL, 10));
        } else {
            return NULL;
        }
        p = dot ? dot + 1 : NULL;
    }
    return cur;
}

const char *e2e_json_str(json_t *root, const char *path)
{
    json_t *v = e2e_json_at(root, path);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

double e2e_json_num(json_t *root, const char *path)
{
    json_t *v = e2e_json_at(root, path);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

long e2e_json_len(json_t *root, const char *path)
{
    json_t *v = e2e_json_at(root, path);
    return json_is_array(v) ? (long)json_array_size(v) : -1;
}

static int grpc_code_for(int http_status)
{
    switch (http_status) {
    case 400:
        return 3;
    case 404:
        return 5;
    case 405:
    case 501:
        return 12;
    case 415:
        return 3;
    case 409:
        return 10;
    case 413:
        return 8;
    case 500:
        return 13;
    case 503:
        return 14;
    default:
        return -1;
    }
}

static bool check_error(int status, json_t *body, int want_status, const char *want, bool exact)
{
    char *dump = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    const char *shown = dump ? dump : "(no JSON body)";
    bool ok = false;
    json_t *code = json_object_get(body, "code");
    const char *msg = json_string_value(json_object_get(body, "message"));

    if (status != want_status)
        fprintf(stderr, "e2e: want HTTP %d, got %d: %s\n", want_status, status, shown);
    else if (!json_is_object(body) || !json_is_integer(code) || !msg ||
             json_object_size(body) !=
                 (json_is_string(json_object_get(body, "requestId")) ? 3u : 2u))
        fprintf(stderr,
                "e2e: want an error body {\"code\": <integer>, \"message\": <string>} (and "
                "\"requestId\" when the detail was logged), got %s\n",
                shown);
    else if (json_integer_value(code) != grpc_code_for(want_status))
        fprintf(stderr, "e2e: want code %d for HTTP %d, got %s\n", grpc_code_for(want_status),
                want_status, shown);
    else if (want && exact && strcmp(msg, want) != 0)
        fprintf(stderr, "e2e: want message \"%s\", got \"%s\"\n", want, msg);
    else if (want && !exact && !strstr(msg, want))
        fprintf(stderr, "e2e: want a message containing \"%s\", got \"%s\"\n", want, msg);
    else
        ok = true;
    free(dump);
    return ok;
}

bool e2e_is_error(int status, json_t *body, int want_status, const char *want_message)
{
    return check_error(status, body, want_status, want_message, true);
}

bool e2e_is_error_like(int status, json_t *body, int want_status, const char *want_part)
{
    return check_error(status, body, want_status, want_part, false);
}

/* ---- SQL --------------------------------------------------------------------------------- */

static PGresult *sql_run(e2e_app *app, const char *sql, int nparams, const char *const *params,
                         core_err *err)
{
    if (!app->sql) {
        app->sql = PQconnectdb(app->pg_conn);
        if (!app->sql || PQstatus(app->sql) != CONNECTION_OK) {
            pq_err(err, CORE_ERR_UNAVAILABLE, app->sql, "connecting to the program's database");
            close_sql(app);
            return NULL;
        }
        PQsetNoticeProcessor(app->sql, ignore_notice, NULL);
    }
    PGresult *res = PQexecParams(app->sql, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType rs = PQresultStatus(res);
    if (rs != PGRES_TUPLES_OK && rs != PGRES_COMMAND_OK) {
        pq_err(err, CORE_ERR_IO, app->sql, sql);
        PQclear(res);
        if (PQstatus(app->sql) != CONNECTION_OK)
            close_sql(app);
        return NULL;
    }
    return res;
}

char *e2e_sql_value(e2e_app *app, const char *sql, int nparams, const char *const *params)
{
    core_err err = CORE_ERR_INIT;
    PGresult *res = sql_run(app, sql, nparams, params, &err);
    char *out = NULL;
    if (!res) {
        fprintf(stderr, "e2e: SQL failed: %s\n", err.msg);
        return NULL;
    }
    if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0))
        out = core_strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return out;
}

long long e2e_sql_long(e2e_app *app, const char *sql, int nparams, const char *const *params)
{
    char *v = e2e_sql_value(app, sql, nparams, params);
    long long n = -1;
    if (v) {
        char *end = NULL;
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (errno == 0 && end != v && *end == '\0')
            n = x;
        else
            fprintf(stderr, "e2e: SQL value \"%s\" is not an integer: %s\n", v, sql);
        core_free(v);
    }
    return n;
}

core_status e2e_sql_exec(e2e_app *app, const char *sql, int nparams, const char *const *params,
                         core_err *err)
{
    PGresult *res = sql_run(app, sql, nparams, params, err);
    if (!res)
        return err ? err->status : CORE_ERR_IO;
    PQclear(res);
    return CORE_OK;
}

bool e2e_sql_ok(e2e_app *app, const char *sql, int nparams, const char *const *params)
{
    core_err err = CORE_ERR_INIT;
    if (e2e_sql_exec(app, sql, nparams, params, &err) != CORE_OK) {
        fprintf(stderr, "e2e: SQL failed: %s\n", err.msg);
        return false;
    }
    return true;
}

bool e2e_wait_for_lock_waiter(e2e_app *app, const char *table, int timeout_ms)
{
    static const char sql[] =
        "select count(*) from pg_locks where not granted and relation = $1::regclass";
    const char *const params[] = {table};
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        long long n = e2e_sql_long(app, sql, 1, params);
        if (n > 0)
            return true;
        if (n < 0) /* printed by e2e_sql_value() */
            return false;
        if (now_ms() >= deadline)
            break;
        sleep_ms(POLL_INTERVAL_MS);
    }
    fprintf(stderr, "e2e: no session waited for a lock on %s within %d ms\n", table, timeout_ms);
    return false;
}

/* ---- assertions for cmocka tests ------------------------------------------------------------- */

static void show_request(const char *method, const char *path, const char *body)
{
    fprintf(stderr, "e2e:   request: %s %s%s%.300s\n", method, path, body ? " " : "",
            body ? body : "");
}

static void show_json(const char *label, json_t *json)
{
    char *dump = json ? json_dumps(json, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    fprintf(stderr, "e2e:   %s: %.1000s\n", label, dump ? dump : "(no JSON)");
    free(dump);
}

json_t *e2e__expect_ok(e2e_app *app, const char *method, const char *path, const char *body,
                       const char *file, int line)
{
    int status;
    json_t *json = e2e_call(app, method, path, body, &status);
    if (status != 200) {
        fprintf(stderr, "e2e: want HTTP 200, got %d\n", status);
        show_request(method, path, body);
        show_json("response", json);
        json_decref(json);
        _fail(file, line); /* longjmps out of the test */
        return NULL;
    }
    return json;
}

void e2e__expect_id(e2e_app *app, const char *method, const char *path, const char *body,
                    char *id_out, const char *file, int line)
{
    json_t *json = e2e__expect_ok(app, method, path, body, file, line);
    const char *id = e2e_json_str(json, "id");
    if (!id || !*id || strlen(id) >= E2E_ID_MAX) {
        fprintf(stderr, "e2e: want {\"id\": \"<non-empty>\"}\n");
        show_request(method, path, body);
        show_json("response", json);
        json_decref(json);
        _fail(file, line);
        return;
    }
    core_strlcpy(id_out, id, E2E_ID_MAX);
    json_decref(json);
}

void e2e__expect_error(e2e_app *app, const char *method, const char *path, const char *body,
                       int want_status, const char *message, bool exact, const char *file, int line)
{
    int status;
    json_t *json = e2e_call(app, method, path, body, &status);
    bool ok = check_error(status, json, want_status, message, exact);
    json_decref(json);
    if (!ok) {
        show_request(method, path, body);
        _fail(file, line);
    }
}

void e2e__expect_json_str(json_t *json, const char *path, const char *want, const char *file,
                          int line)
{
    const char *got = e2e_json_str(json, path);
    if (!got || strcmp(got, want) != 0) {
        fprintf(stderr, "e2e: want \"%s\" at %s, got %s%s%s\n", want, path, got ? "\"" : "",
                got ? got : "nothing (missing or not a string)", got ? "\"" : "");
        show_json("in", json);
        _fail(file, line);
    }
}

void e2e__expect_json_num(json_t *json, const char *path, double want, const char *file, int line)
{
    double got = e2e_json_num(json, path);
    if (isnan(got) || fabs(got - want) > 1e-9) {
        if (isnan(got))
            fprintf(stderr, "e2e: want %.10g at %s, got nothing (missing or not a number)\n", want,
                    path);
        else
            fprintf(stderr, "e2e: want %.10g at %s, got %.10g\n", want, path, got);
        show_json("in", json);
        _fail(file, line);
    }
}

void e2e__expect_sql(e2e_app *app, const char *want, const char *sql, const char *param,
                     const char *file, int line)
{
    const char *params[1] = {param};
    char *got = e2e_sql_value(app, sql, param ? 1 : 0, param ? params : NULL);
    bool ok = want ? got && strcmp(got, want) == 0 : got == NULL;
    if (!ok) {
        fprintf(stderr, "e2e: SQL %s [$1=%s]\ne2e:   want %s%s%s, got %s%s%s\n", sql,
                param ? param : "-", want ? "\"" : "", want ? want : "no value", want ? "\"" : "",
                got ? "\"" : "", got ? got : "no value", got ? "\"" : "");
    }
    core_free(got);
    if (!ok)
        _fail(file, line);
}
