/* e2e.h -- end-to-end test support: run a chapter's program against a fresh database and talk
 * to it the way a user does, over its REST API, then look at the database rows it wrote.
 *
 * Layer: test support of the core (tests/support/), linked into every core and chapter test.
 * Nothing here knows a chapter: the program comes from MALLBOTS_BIN, the database from PG_CONN.
 *
 * A test file's life cycle (one program and one database per cmocka group), all of it done by
 * e2e_run_group() (below):
 *
 *   group setup:    e2e_open(&app, "lifecycle", &err)
 *                   = e2e_db_create() + e2e_app_start(), the app owning the database
 *   tests:          json_t *j = e2e_call(app, "POST", "/api/stores", "{...}", &status);
 *                   char *v = e2e_sql_value(app, "select ... where id = $1", 1, params);
 *                   or the assertions at the end: e2e_expect_ok(), e2e_expect_error(), ...
 *   last test:      e2e_shuts_down_cleanly: e2e_app_stop(app, &code, &err) and assert code == 0
 *                   (under AddressSanitizer a leak makes the exit code non-zero)
 *   group teardown: e2e_close(app, &code, &err): stops it if still running, drops the database
 * (cmocka 1.1.5 does not count a failed group teardown as a failure, hence the last test.)
 *
 * The program is started with the environment it would get from an operator: PG_CONN (the fresh
 * database), WEB_PORT and RPC_PORT (two free loopback ports), WEB_HOST=RPC_HOST=127.0.0.1,
 * LOG_LEVEL (the caller's LOG_LEVEL, else WARN), SHUTDOWN_TIMEOUT=10s and WEB_THREADS =
 * RPC_THREADS = 64 (E2E_APP_THREADS, below); everything else of
 * the test's environment is passed on. Its stdout and stderr go to a log file: in E2E_LOG_DIR if
 * set, else build/test-logs/ (when the test runs from the repository root, as scripts/test.sh
 * does), else /tmp. Set E2E_TRACE=1 to print every request and response of e2e_call() on stderr.
 *
 * Diagnostics: the helpers print what went wrong on stderr (a failed request, an unexpected error
 * body, an SQL error, the tail of the program's log when it died), so that the cmocka failure
 * line that follows has its context.
 *
 * Thread-safety: none; one test thread drives one e2e_app. The one exception is a request sent
 * from another thread (struct e2e_async_request below): it has an HTTP client of its own and does
 * not touch the e2e_app after e2e_request_init(), so any number of them may run at once while the
 * test thread goes on using the app.
 */
#ifndef E2E_H
#define E2E_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "core.h"
#include "httpc.h"

/* ---- databases ------------------------------------------------------------------------------ */

#define E2E_DB_NAME_MAX 64
#define E2E_CONNINFO_MAX 1024

/* A database made for one test run. Caller storage: E2E_DB_INIT. */
struct e2e_db {
    char name[E2E_DB_NAME_MAX];      /* e.g. "e2e_ch03_4242_1"; "" = none */
    char conninfo[E2E_CONNINFO_MAX]; /* PG_CONN with dbname replaced by name */
};
/* clang-format off */
#define E2E_DB_INIT {{0}, {0}}
/* clang-format on */

/* Creates an empty database named "e2e_<tag>_<pid>_<n>" (tag: letters, digits, '_', at most 20
 * characters; n counts the calls of this process) through PG_CONN from the environment (default
 * CFG_DEFAULT_PG_CONN; its role needs CREATEDB), and fills db with its name and conninfo. Before
 * that it drops databases "e2e_*_<pid>_<n>" left behind by test processes that no longer exist
 * (a crashed run). Server unreachable -> CORE_ERR_UNAVAILABLE; other failures CORE_ERR_IO with
 * the server's message. */
core_status e2e_db_create(struct e2e_db *db, const char *tag, core_err *err);

/* Drops db's database (terminating connections still open to it) and clears db->name. A db
 * without a name is a no-op. */
core_status e2e_db_drop(struct e2e_db *db, core_err *err);

/* Writes the conninfo base with libpq keyword key set to val (its old value replaced, or added)
 * into out (size bytes) as key='value' pairs, libpq-quoted; keywords without a value are left
 * out. For a variant of a database's conninfo, e.g. e2e_conninfo_with(db.conninfo, "password",
 * "wrong", ...). base, key and val are borrowed. Unparsable base or a result that does not fit
 * -> CORE_ERR_INVALID (out is then unspecified). */
core_status e2e_conninfo_with(const char *base, const char *key, const char *val, char *out,
                              size_t size, core_err *err);

/* A per-test scratch database with a leak check, for the fixtures of core integration tests
 * (a cmocka setup makes one, its teardown ends it). Caller storage: E2E_SCRATCH_INIT. */
struct e2e_scratch {
    struct e2e_db db; /* the database: db.conninfo connects to it */
    long live;        /* core_alloc_live() when it was opened */
    char tag[24];     /* names the database and prefixes the messages */
};
/* clang-format off */
#define E2E_SCRATCH_INIT {E2E_DB_INIT, 0, {0}}
/* clang-format on */

/* Records core_alloc_live() in s->live, then creates a database with e2e_db_create(&s->db, tag)
 * (tag copied). Returns 0, or -1 after printing "<tag>: ..." on stderr (nothing is left
 * behind): the value of a cmocka setup function. */
int e2e_scratch_open(struct e2e_scratch *s, const char *tag);

/* Drops s's database (a scratch without one only gets the leak check) and checks that
 * core_alloc_live() is back at s->live, so call it after freeing everything the test made.
 * Returns 0, or -1 after printing what failed on stderr: the value of a cmocka teardown
 * function. */
int e2e_scratch_close(struct e2e_scratch *s);

/* ---- the program under test ----------------------------------------------------------------- */

typedef struct e2e_app e2e_app; /* opaque: a child process, an HTTP client, an SQL connection */

struct e2e_app_opts {
    const char *bin;        /* program to run; NULL = environment MALLBOTS_BIN (required then) */
    const char *name;       /* names the log file "<name>.app.log"; letters, digits, '-', '_' */
    const char *pg_conn;    /* PG_CONN for the program (copied); required */
    const char *log_level;  /* NULL = environment LOG_LEVEL, else "WARN" */
    int ready_timeout_ms;   /* how long to wait until it answers; 0 = 30000 */
    const char *ready_path; /* polled with GET until it answers 200; NULL = "/api/stores" */
    const char *nats_url;   /* NATS_URL for the program; NULL = environment NATS_URL, else the
                               lab's default */
    int threads;            /* WEB_THREADS and RPC_THREADS for the program: 0 = E2E_APP_THREADS;
                               E2E_PROGRAM_THREADS = neither set, the program's own default */
};
/* clang-format off */
#define E2E_APP_OPTS_INIT {NULL, "app", NULL, NULL, 0, NULL, NULL, 0}
/* clang-format on */

/* A test's program runs with 64 worker threads per server instead of the program's 1024 (cfg.h):
 * under the sanitizers it then starts and stops in a third of the time and CPU (2048 threads cost
 * about 2 s of CPU per start and stop), which adds up over the few hundred programs `make test`
 * starts. No test but the slow-clients one holds more than a few dozen connections at once; that
 * one runs with the program's own count (e2e_open_threads(..., E2E_PROGRAM_THREADS, ...)). */
#define E2E_APP_THREADS 64
#define E2E_PROGRAM_THREADS (-1)

/* Picks two free loopback ports, starts the program (fork + execve) with the environment
 * described at the top, and waits until GET ready_path answers 200 (bounded by
 * ready_timeout_ms). If the program exits first, or does not answer in time (it is then
 * killed), returns CORE_ERR_UNAVAILABLE and prints the tail of its log. The child gets SIGTERM
 * if the test process dies (PR_SET_PDEATHSIG), so a crashed test leaves no program behind.
 * On OK the caller frees *out with e2e_app_free() (or e2e_close()). */
core_status e2e_app_start(e2e_app **out, const struct e2e_app_opts *opts, core_err *err);

/* Sends SIGTERM and waits (at most 15 s) for the program to exit. *exit_code (may be NULL) gets
 * its exit status (0 = clean shutdown), 128 + N when signal N killed it, or -1 when it ignored
 * SIGTERM for 15 s and had to be killed with SIGKILL (then CORE_ERR_UNAVAILABLE is returned). A
 * non-zero exit (also one that happened before, e.g. a crash during the tests) prints the tail of
 * the log, once. Also closes the SQL connection. Stopping an app that was already stopped
 * returns the first result again. */
core_status e2e_app_stop(e2e_app *app, int *exit_code, core_err *err);

/* Stops the program if it still runs (SIGKILL after the same 15 s bound), closes everything,
 * drops the database when the app owns one (e2e_open) and frees. NULL is a no-op. */
void e2e_app_free(e2e_app *app);

/* e2e_db_create() + e2e_app_start() in one call; the app owns the database. From chapter 06 on
 * (environment CHAPTER >= 06) the app also owns a nats-server of its own (natsd.h, on a free
 * loopback port with a fresh store), which the program gets as NATS_URL: the consumer groups of
 * programs running at the same time (other test files, other chapters, a learner's make run)
 * never share the lab's stream, so each test sees every message of its own program, and a test
 * may stop and restart that broker (e2e_app_broker). Names come from the
 * environment CHAPTER (set by scripts/test.sh; later chapters inherit earlier chapters' tests, so
 * the names must tell them apart): database "e2e_ch<CHAPTER>_<pid>_<n>", log file
 * "ch<CHAPTER>-<name>.app.log" (without CHAPTER: tag "test"). name: letters, digits, '-', '_'.
 * On failure nothing is left behind (the database is dropped again). Caller ends it with
 * e2e_close(). */
core_status e2e_open(e2e_app **out, const char *name, core_err *err);

/* e2e_open() with threads as in struct e2e_app_opts (0 = E2E_APP_THREADS, E2E_PROGRAM_THREADS =
 * the program's own default). */
core_status e2e_open_threads(e2e_app **out, const char *name, int threads, core_err *err);

/* e2e_app_stop() (if not stopped yet) + drop of the owned database + free. *exit_code as for
 * e2e_app_stop(). Returns the first failure (a stop timeout or a failed drop); app is freed in
 * every case. NULL app: CORE_OK, *exit_code = -1. */
core_status e2e_close(e2e_app *app, int *exit_code, core_err *err);

/* The nats-server the app owns (e2e_open from chapter 06 on), or NULL. Borrowed; a test may stop
 * and start it (natsd_stop, natsd_start) while the program runs. */
struct natsd *e2e_app_broker(e2e_app *app);

int e2e_app_web_port(const e2e_app *app);         /* the REST API's port */
int e2e_app_rpc_port(const e2e_app *app);         /* the RPC server's port */
pid_t e2e_app_pid(const e2e_app *app);            /* the child's pid (still valid after stop) */
const char *e2e_app_log_path(const e2e_app *app); /* borrowed */

/* The directory the programs' logs go to (environment E2E_LOG_DIR, else build/test-logs when it
 * exists, else /tmp), written into buf; returns buf. For a test whose program failed to start
 * and left only its log ("<dir>/ch<CHAPTER>-<name>.app.log" for e2e_open). */
const char *e2e_log_dir(char *buf, size_t size);
const char *e2e_app_pg_conn(const e2e_app *app); /* the program's PG_CONN; borrowed */
bool e2e_app_running(e2e_app *app);              /* false once it exited (reaps it) */

/* Prints the last max_lines lines of the program's log on stderr, framed, for a failing test. */
void e2e_app_dump_log(const e2e_app *app, int max_lines);

/* ---- one program for a whole test file -------------------------------------------------------
 * The life cycle above, for a test file whose tests share one program (file-level e2e_app *app):
 *
 *     static e2e_app *app;
 *     static void store_is_created(void **state) { ... e2e_expect_id(app, ...) ... }
 *     int main(void)
 *     {
 *         const struct CMUnitTest tests[] = {
 *             cmocka_unit_test(store_is_created),
 *             ...
 *             cmocka_unit_test(e2e_shuts_down_cleanly),
 *         };
 *         return e2e_run_group("stores", &app, tests);
 *     }
 *
 * The program inherits the test's environment: a test that needs a setting (e.g.
 * ES_SNAPSHOT_EVERY) sets it with setenv() before e2e_run_group(). */

/* Runs the cmocka tests (an array) as one group: the group setup opens *app with
 * e2e_open(app, name) (a failure is printed, "setup: ...", and fails the group); the group
 * teardown closes it with e2e_close(), sets *app to NULL and fails ("teardown: ...") when the
 * close failed or the program's exit was not clean. Returns cmocka's result, for main(). One
 * group at a time (not reentrant). */
#define e2e_run_group(name, app, tests)                                                            \
    e2e__run_group((name), (app), (tests), sizeof(tests) / sizeof((tests)[0]))

/* The group's last test: stops the program of e2e_run_group() and expects a clean shutdown
 * (e2e_app_stop() OK and exit code 0; under AddressSanitizer a leak makes it non-zero). */
void e2e_shuts_down_cleanly(void **state);

struct CMUnitTest;
int e2e__run_group(const char *name, e2e_app **app, const struct CMUnitTest *tests, size_t n);

/* ---- HTTP ------------------------------------------------------------------------------------ */

#define E2E_HTTP_TIMEOUT_MS 30000 /* per wait on the program (a sanitizer build is slow) */

/* Sends one request to the program's REST port (see httpc_request(); headers and body borrowed).
 * On OK the caller releases resp with httpc_response_release(). */
core_status e2e_http(e2e_app *app, const char *method, const char *path, const char *const *headers,
                     const void *body, size_t body_len, struct httpc_response *resp, core_err *err);

/* A JSON call: method path with body (NULL = none; sent with Content-Type: application/json).
 * *status gets the HTTP status, or -1 when the request failed (connection refused, timeout,
 * malformed response: printed on stderr, with the program's log tail if it died). Returns the
 * parsed response body (a new reference: json_decref it), or NULL when there was none or it was not
 * JSON (printed on stderr). */
json_t *e2e_call(e2e_app *app, const char *method, const char *path, const char *body, int *status);

/* Text formatted into a value (no allocation), for building paths and bodies inline:
 *     e2e_call(app, "PUT", E2E_F("/api/baskets/%s/addItem", id), E2E_F("{\"n\":%d}", n), &st)
 * The array lives until the end of the full expression that contains the call (C11 temporary
 * lifetime). Text longer than E2E_TEXT_MAX - 1 aborts (a test bug). */
#define E2E_TEXT_MAX 4096
struct e2e_text {
    char s[E2E_TEXT_MAX];
};
struct e2e_text e2e_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define E2E_F(...) (e2e_fmt(__VA_ARGS__).s)

/* ---- a request from another thread ----------------------------------------------------------
 * For tests of concurrency: a request that must be in flight while the test thread does something
 * else (e.g. holds a database lock the request will wait for), or many requests at once.
 *
 *     struct e2e_async_request r;
 *     e2e_request_init(&r, app, "PUT", E2E_F("/api/baskets/%s/addItem", id), "{...}");
 *     bool started = e2e_request_start(&r);   // sends it on a new thread
 *     ... the test thread goes on (e2e_sql_ok(), e2e_wait_for_lock_waiter(), ...) ...
 *     e2e_request_join(&r);                   // then r.status and r.response are set
 *     ... look at them ...
 *     e2e_request_release(&r);
 *
 * A test that runs its own threads (e.g. to hold them at a barrier first) calls e2e_request_run()
 * from each of them instead of start + join. Each request has an HTTP client of its own (freed
 * when the response is in), sends Content-Type: application/json when it has a body, and is
 * printed with its response on stderr when E2E_TRACE is set. */

/* Caller storage (on the stack or static), set up by e2e_request_init(), ended by
 * e2e_request_release(). Nothing in it is shared with the e2e_app, so different requests may run
 * on different threads at once; one request belongs to one thread at a time (the thread that runs
 * it, until e2e_request_join() returns). */
struct e2e_async_request {
    /* the request (copied in by e2e_request_init()) */
    int port; /* the program's REST port */
    char method[16];
    char path[E2E_TEXT_MAX];
    char body[E2E_TEXT_MAX];
    bool has_body; /* false: sent without a body */
    /* the result, set by e2e_request_run() (read it after e2e_request_join()) */
    int status;                   /* the HTTP status; -1 when there was no response */
    char *response;               /* the response body (NUL-terminated), or NULL when there was no
                                     response; owned by the request: e2e_request_release() frees it */
    char error[CORE_ERR_MSG_MAX]; /* why there was no response ("not sent" before the run);
                                     "" once there was one */
    /* the thread of e2e_request_start() */
    pthread_t thread;
    bool started; /* a thread runs it (until e2e_request_join()) */
};

/* Sets up r for method path on app's REST port, with body (NULL: none). method, path and body are
 * copied (a method longer than 15 characters, or a path or body longer than E2E_TEXT_MAX - 1,
 * aborts: a test bug), so E2E_F() can build them; app is only read here. The result fields say
 * "not sent" (status -1) until the request ran. */
void e2e_request_init(struct e2e_async_request *r, e2e_app *app, const char *method,
                      const char *path, const char *body);

/* Sends the request on the calling thread (any thread) with a new HTTP client of its own and
 * waits for the response (at most E2E_HTTP_TIMEOUT_MS per wait). Fills status, response and error;
 * a failed request (refused, timed out, malformed response) is printed on stderr with its path.
 * Run a request once. */
void e2e_request_run(struct e2e_async_request *r);

/* Starts a thread that runs e2e_request_run(r) and returns at once; r must stay where it is and
 * be left alone until e2e_request_join(). Returns false (printed on stderr; r is then not sent)
 * when the thread could not be created. */
bool e2e_request_start(struct e2e_async_request *r);

/* Waits until the thread of e2e_request_start() has finished; afterwards the result fields can be
 * read. A request that was not started is a no-op. */
void e2e_request_join(struct e2e_async_request *r);

/* Frees what the request holds (its response) and sets response to NULL. Call it after
 * e2e_request_join(), never while its thread runs. Safe to call twice. */
void e2e_request_release(struct e2e_async_request *r);

/* ---- JSON access ----------------------------------------------------------------------------- */

/* The value at a dotted path: object keys and array indexes, e.g. "basket.items.0.quantity".
 * NULL when any step is missing (or root is NULL). Borrowed from root. */
json_t *e2e_json_at(json_t *root, const char *path);

/* The string at path; NULL when missing or not a string. Borrowed from root. */
const char *e2e_json_str(json_t *root, const char *path);

/* The number (integer or real) at path; NAN when missing or not a number. */
double e2e_json_num(json_t *root, const char *path);

/* The size of the array at path; -1 when missing or not an array. */
long e2e_json_len(json_t *root, const char *path);

/* true when (status, body) is the API's error shape for HTTP want_status: body is exactly
 * {"code": <integer>, "message": <string>} (plus "requestId": <string> when the server logged the
 * detail, shared/web.h), code is the gRPC code the API uses for that HTTP status (400 -> 3,
 * 404 -> 5, 405 -> 12, 409 -> 10, 413 -> 8, 415 -> 3, 500 -> 13, 501 -> 12, 503 -> 14), and the
 * message equals want_message (NULL: any message). Otherwise prints what differs and returns
 * false; use it as assert_true(e2e_is_error(...)). */
bool e2e_is_error(int status, json_t *body, int want_status, const char *want_message);

/* Like e2e_is_error(), but the message must only contain want_part (NULL: any). */
bool e2e_is_error_like(int status, json_t *body, int want_status, const char *want_part);

/* ---- SQL on the program's database ---------------------------------------------------------- */

/* Runs sql (constant text with $1..$n; params borrowed, NULL entries are SQL NULL) on a
 * connection of the test's own to the program's database (opened on first use). Returns the
 * first column of the first row as text, core_malloc'd (caller frees with core_free()); NULL
 * when there is no row, the value is NULL, or the query failed (printed on stderr). */
char *e2e_sql_value(e2e_app *app, const char *sql, int nparams, const char *const *params);

/* Like e2e_sql_value() for a query returning one integer (e.g. "select count(*) ..."); -1 when
 * there is no row, the value is NULL or not an integer, or the query failed. */
long long e2e_sql_long(e2e_app *app, const char *sql, int nparams, const char *const *params);

/* Runs a statement that returns no rows (e.g. an UPDATE that prepares a test situation). */
core_status e2e_sql_exec(e2e_app *app, const char *sql, int nparams, const char *const *params,
                         core_err *err);

/* Like e2e_sql_exec(), for tests: a failure is printed on stderr ("e2e: SQL failed: ..."); returns
 * whether the statement succeeded, for assert_true() or for a chain of steps whose outcome is
 * asserted later (e.g. after a transaction was ended). */
bool e2e_sql_ok(e2e_app *app, const char *sql, int nparams, const char *const *params);

/* Waits until a session waits for a lock on table (a schema-qualified name, e.g. "stores.events";
 * borrowed), i.e. pg_locks has a row that is not granted for that relation; checks every 50 ms, at
 * most timeout_ms. For a test that holds a lock on its own connection (BEGIN; LOCK TABLE ...) and
 * needs to know that the program's statement has reached it and is blocked. Uses the same
 * connection as e2e_sql_value(), so it works inside the test's open transaction. Returns false on
 * timeout, or at once when the query fails (printed on stderr: an unknown table, or the
 * transaction is aborted). */
bool e2e_wait_for_lock_waiter(e2e_app *app, const char *table, int timeout_ms);

/* ---- assertions for cmocka tests --------------------------------------------------------------
 * Each checks one thing and, when it does not hold, prints the request, what was expected and
 * what came back, then fails the running cmocka test at the CALLER's file and line (cmocka's
 * _fail()). They free what they allocated before failing. */

#define E2E_ID_MAX 128

/* The request answers 200; returns the body (a new reference: json_decref it; may be NULL when
 * the body is empty). */
#define e2e_expect_ok(app, method, path, body)                                                     \
    e2e__expect_ok((app), (method), (path), (body), __FILE__, __LINE__)

/* The request answers 200 with {"id": "<non-empty>", ...}; copies the id into id_out
 * (char[E2E_ID_MAX]). */
#define e2e_expect_id(app, method, path, body, id_out)                                             \
    e2e__expect_id((app), (method), (path), (body), (id_out), __FILE__, __LINE__)

/* The request answers with the API's error shape for want_status (see e2e_is_error()) and
 * exactly message (NULL: any message). */
#define e2e_expect_error(app, method, path, body, want_status, message)                            \
    e2e__expect_error((app), (method), (path), (body), (want_status), (message), true, __FILE__,   \
                      __LINE__)

/* Like e2e_expect_error(), the message only has to contain part. */
#define e2e_expect_error_like(app, method, path, body, want_status, part)                          \
    e2e__expect_error((app), (method), (path), (body), (want_status), (part), false, __FILE__,     \
                      __LINE__)

/* The string at path in json equals want. */
#define e2e_expect_json_str(json, path, want)                                                      \
    e2e__expect_json_str((json), (path), (want), __FILE__, __LINE__)

/* The number at path in json equals want (within 1e-9). */
#define e2e_expect_json_num(json, path, want)                                                      \
    e2e__expect_json_num((json), (path), (want), __FILE__, __LINE__)

/* e2e_sql_value(app, sql, param ? 1 : 0, {param}) equals want (want NULL: no row or SQL NULL). */
#define e2e_expect_sql(app, want, sql, param)                                                      \
    e2e__expect_sql((app), (want), (sql), (param), __FILE__, __LINE__)

json_t *e2e__expect_ok(e2e_app *app, const char *method, const char *path, const char *body,
                       const char *file, int line);
void e2e__expect_id(e2e_app *app, const char *method, const char *path, const char *body,
                    char *id_out, const char *file, int line);
void e2e__expect_error(e2e_app *app, const char *method, const char *path, const char *body,
                       int want_status, const char *message, bool exact, const char *file,
                       int line);
void e2e__expect_json_str(json_t *json, const char *path, const char *want, const char *file,
                          int line);
void e2e__expect_json_num(json_t *json, const char *path, double want, const char *file, int line);
void e2e__expect_sql(e2e_app *app, const char *want, const char *sql, const char *param,
                     const char *file, int line);

#endif /* E2E_H */
