/* test_events_tool.c -- end to end (chapter 06): the stream tool, build/chNN/events, against
 * messages the running program publishes and messages the test puts on the stream itself.
 *
 * One mallbots process on a fresh database, with the nats-server of its own that e2e_open()
 * starts from chapter 06 on; the test points NATS_URL (inherited by the tool) at it. The stream is
 * NATS_STREAM, default mallbots (the chapter's channels are "mallbots.*"). The tool is the one next
 * to MALLBOTS_BIN (EVENTS_BIN overrides it) and runs as a learner runs it, through a shell (popen),
 * bounded by timeout(1) so that a tool that hangs fails the test instead of the run. Other tests
 * and earlier runs leave messages on the stream, so every check looks at sequences and subjects
 * this test made: the program's events from a sequence read before, and the test's own messages
 * under
 * "<stream>.e2e.events<pid>.", consumed by a group of the test's own ("e2e-events-<pid>"), so the
 * program's groups get no dead letter from it. At the end the test deletes its group and the
 * messages it published (the program's events stay, as in every e2e test).
 *
 * What is checked: a store created over REST shows up decoded (name, message id = the domain
 * event's id in stores.events, payload fields) with --json and as text; `tail` from now is woken
 * by the next message; bytes that are no StreamMessage are printed raw with the reason, and the
 * dead letter the test's group makes of them is listed by `dead` with its Mallbots-Dead-*
 * headers; a StreamMessage whose name is not registered is printed raw with the reason; `info`
 * lists the groups and their dead letters; an unreachable broker, a missing stream and bad
 * arguments end with one line and a non-zero exit.
 *
 * The tests run in order and build on each other (ids and sequences in file-level variables).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <nats/nats.h>

#include "am.h"
#include "cfg.h"
#include "e2e.h"
#include "natsd.h"

#define OUT_MAX 65536
#define STORE_NAME "Waldorf Books"
#define STORE_LOCATION "West Upper Level"
#define GARBAGE "not a protobuf \xff\xfe" /* 17 bytes */

static e2e_app *app;
static char stream[AM_NAME_MAX + 1];
static char tool[1024];
static char store_id[E2E_ID_MAX];
static char prefix[AM_SUBJECT_MAX + 1]; /* <stream>.e2e.events<pid>: the test's own subjects */
static char group[AM_NAME_MAX + 1];     /* e2e-events-<pid>: consumes <prefix>.in */
static am_stream *own;                  /* the test's connection, with that group */
static uint64_t own_seqs[8];            /* the messages the test stored (deleted at the end) */
static int n_own;
static long long garbage_seq;

static void remember(uint64_t seq)
{
    if (n_own < 8)
        own_seqs[n_own++] = seq;
}

/* The group's handler: never reached by the garbage (dead before any handler runs). */
static core_status own_handler(void *ud, const struct am_delivery *d, const unsigned char *data,
                               size_t len, bool *dead, core_err *err)
{
    (void)ud;
    (void)d;
    (void)data;
    (void)len;
    (void)dead;
    (void)err;
    return CORE_OK;
}

static const char *nats_url(void)
{
    const char *u = getenv("NATS_URL");
    return u && *u ? u : CFG_DEFAULT_NATS_URL;
}

/* Runs "<env> timeout 60 <tool> <args> 2>&1" and collects its output into out; returns the exit
 * status (-1 when it could not run or was killed). */
static int run_tool(const char *env, const char *args, char *out, size_t size)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s timeout 60 '%s' %s 2>&1", env ? env : "", tool, args);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    if (getenv("E2E_TRACE"))
        fprintf(stderr, "$ %s\n%s(exit %d)\n", cmd, out,
                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The n-th line of out that is a JSON object (0 = first), parsed; NULL when there is none. */
static json_t *json_line(const char *out, int n)
{
    const char *p = out;
    while (*p) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 0 && p[0] == '{' && n-- == 0)
            return json_loadb(p, len, 0, NULL);
        p += len + (end ? 1 : 0);
    }
    return NULL;
}

static void expect_in(const char *out, const char *part)
{
    if (!strstr(out, part))
        fail_msg("the tool's output lacks \"%s\":\n%s", part, out);
}

static long long last_seq(void)
{
    static char out[OUT_MAX];
    assert_int_equal(run_tool(NULL, "info --json", out, sizeof out), 0);
    json_t *j = json_line(out, 0);
    assert_non_null(j);
    json_t *v = e2e_json_at(j, "stream.lastSeq");
    assert_true(json_is_integer(v));
    long long seq = json_integer_value(v);
    json_decref(j);
    return seq;
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void a_created_store_is_decoded(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    struct natsd *broker = e2e_app_broker(app); /* the tool inherits NATS_URL */
    if (broker)
        setenv("NATS_URL", broker->url, 1);
    long long from = last_seq() + 1;
    e2e_expect_id(app, "POST", "/api/stores",
                  "{\"name\":\"" STORE_NAME "\",\"location\":\"" STORE_LOCATION "\"}", store_id);
    char *event_id = e2e_sql_value(
        app, "select event_id from stores.events where stream_id = $1 and stream_version = 1", 1,
        (const char *const[]){store_id});
    assert_non_null(event_id);

    /* --json: one object per message */
    assert_int_equal(run_tool(NULL,
                              E2E_F("tail stores.events.Store --from %lld --count 1 --json", from),
                              out, sizeof out),
                     0);
    json_t *j = json_line(out, 0);
    assert_non_null(j);
    e2e_expect_json_num(j, "seq", (double)from);
    e2e_expect_json_str(j, "subject", E2E_F("%s.stores.events.Store", stream));
    e2e_expect_json_str(j, "name", "storesapi.StoreCreated");
    e2e_expect_json_str(j, "id", event_id);
    e2e_expect_json_str(j, "payload.id", store_id);
    e2e_expect_json_str(j, "payload.name", STORE_NAME);
    e2e_expect_json_str(j, "payload.location", STORE_LOCATION);
    assert_non_null(e2e_json_str(j, "occurredAt"));
    assert_null(e2e_json_at(j, "raw"));
    json_decref(j);
    assert_null(json_line(out, 1)); /* --count 1: one message */

    /* as text, the same message through list */
    assert_int_equal(run_tool(NULL, E2E_F("list stores.events.Store --from %lld --count 1", from),
                              out, sizeof out),
                     0);
    expect_in(out, E2E_F("#%lld  ", from));
    expect_in(out, E2E_F("storesapi.StoreCreated  id=%s", event_id));
    expect_in(out, E2E_F("{\"id\":\"%s\",\"name\":\"" STORE_NAME "\",\"location\":\"" STORE_LOCATION
                         "\"}",
                         store_id));
    core_free(event_id);
}

/* tail from now: the tool says it is watching, then the next message wakes it. */
static void tail_follows_new_messages(void **state)
{
    (void)state;
    char cmd[2048], line[1024];
    static char out[OUT_MAX];
    snprintf(cmd, sizeof cmd, "timeout 60 '%s' tail stores.events.Store --count 1 2>&1", tool);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    bool watching = fgets(line, sizeof line, p) != NULL;
    if (!watching || !strstr(line, "for new messages")) {
        pclose(p);
        fail_msg("tail did not say it was watching: %s", watching ? line : "(nothing)");
    }
    json_t *r = e2e_expect_ok(app, "PUT", E2E_F("/api/stores/%s/rebrand", store_id),
                              "{\"name\":\"Waldorf Books & Games\"}");
    json_decref(r);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    expect_in(out, "storesapi.StoreRebranded");
    expect_in(out, E2E_F("{\"id\":\"%s\",\"name\":\"Waldorf Books & Games\"}", store_id));
    assert_null(strstr(out, "storesapi.StoreCreated")); /* from now: not the older message */
}

/* Bytes that are no StreamMessage: printed raw with the reason; the test's group makes a dead
 * letter of them, which `dead` lists with its headers. */
static void garbage_is_printed_raw_and_its_dead_letter_listed(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    core_err err = CORE_ERR_INIT;
    struct am_js_opts o = AM_JS_OPTS_INIT;
    o.url = nats_url();
    o.stream = stream;
    o.existing_only = true;
    struct am_sub_opts so = AM_SUB_OPTS_INIT;
    so.group = group;
    core_status st = am_js_stream_new(&own, &o, &err);
    if (st == CORE_OK)
        st = am_stream_subscribe(own, E2E_F("%s.in", prefix), &so, own_handler, NULL, &err);
    if (st != CORE_OK)
        fail_msg("the test's group: %s", err.msg);

    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsPubAck *pa = NULL;
    assert_int_equal(natsConnection_ConnectTo(&nc, nats_url()), NATS_OK);
    assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    natsStatus s =
        js_Publish(&pa, js, E2E_F("%s.in", prefix), GARBAGE, (int)strlen(GARBAGE), NULL, NULL);
    if (s == NATS_OK) {
        garbage_seq = (long long)pa->Sequence;
        remember(pa->Sequence);
    }
    jsPubAck_Destroy(pa);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    assert_int_equal(s, NATS_OK);

    assert_int_equal(
        run_tool(NULL, E2E_F("list --from %lld --count 1 --json", garbage_seq), out, sizeof out),
        0);
    json_t *j = json_line(out, 0);
    assert_non_null(j);
    e2e_expect_json_num(j, "seq", (double)garbage_seq);
    e2e_expect_json_str(j, "subject", E2E_F("%s.in", prefix));
    assert_null(e2e_json_at(j, "name"));
    e2e_expect_json_num(j, "raw.size", (double)strlen(GARBAGE));
    assert_non_null(strstr(e2e_json_str(j, "raw.reason"), "not a StreamMessage"));
    e2e_expect_json_str(j, "raw.hex", "6e 6f 74 20 61 20 70 72 6f 74 6f 62 75 66 20 ff fe");
    json_decref(j);

    /* the dead letter: waited for with the tool itself (a watch from the garbage on) */
    assert_int_equal(
        run_tool(NULL, E2E_F("tail dead.%s --from %lld --count 1 --json", group, garbage_seq), out,
                 sizeof out),
        0);
    j = json_line(out, 0);
    assert_non_null(j);
    remember((uint64_t)e2e_json_num(j, "seq"));
    e2e_expect_json_str(j, "subject", E2E_F("%s.dead.%s", stream, group));
    e2e_expect_json_str(j, "dead.Mallbots-Dead-Group", group);
    e2e_expect_json_str(j, "dead.Mallbots-Dead-Subject", E2E_F("%s.in", prefix));
    e2e_expect_json_str(j, "dead.Mallbots-Dead-Sequence", E2E_F("%lld", garbage_seq));
    e2e_expect_json_str(j, "dead.Mallbots-Dead-Deliveries", "1");
    assert_non_null(strstr(e2e_json_str(j, "dead.Mallbots-Dead-Reason"), "not a StreamMessage"));
    e2e_expect_json_num(j, "raw.size", (double)strlen(GARBAGE));
    json_decref(j);

    assert_int_equal(run_tool(NULL, E2E_F("dead %s", group), out, sizeof out), 0);
    expect_in(out, "Mallbots-Dead-Reason: not a StreamMessage");
    expect_in(out, E2E_F("Mallbots-Dead-Group: %s", group));
    expect_in(out, E2E_F("Mallbots-Dead-Sequence: %lld", garbage_seq));
    expect_in(out, "raw, 17 bytes: not a StreamMessage");
    assert_int_equal(run_tool(NULL, E2E_F("dead %s-none", group), out, sizeof out), 0);
    expect_in(out, E2E_F("no messages on %s.dead.%s-none", stream, group));
}

/* A StreamMessage whose name the registry does not know: name and id, the data raw with the
 * reason. */
static void an_unregistered_name_is_printed_raw(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    assert_non_null(own); /* the previous test's */
    core_err err = CORE_ERR_INIT;
    struct am_publish_ack ack;
    char thing_id[32]; /* unique: the stream drops an id it saw within its duplicate window */
    snprintf(thing_id, sizeof thing_id, "thing-%d", (int)getpid());
    if (am_stream_publish(own, E2E_F("%s.thing", prefix), thing_id, "test.Unregistered", NULL, 0,
                          &ack, &err) != CORE_OK)
        fail_msg("publish: %s", err.msg);
    remember(ack.seq);
    const char *subject = prefix + strlen(stream) + 1; /* the short form, without the stream */

    assert_int_equal(run_tool(NULL, E2E_F("list %s.thing --json", subject), out, sizeof out), 0);
    json_t *j = json_line(out, 0);
    assert_non_null(j);
    e2e_expect_json_str(j, "name", "test.Unregistered");
    e2e_expect_json_str(j, "id", thing_id);
    e2e_expect_json_str(j, "raw.reason", "no payload type is registered for test.Unregistered");
    assert_null(e2e_json_at(j, "payload"));
    json_decref(j);
    assert_null(json_line(out, 1));
    assert_int_equal(run_tool(NULL, E2E_F("list '%s.>'", prefix), out, sizeof out), 0);
    expect_in(out, E2E_F("test.Unregistered  id=%s", thing_id));
    expect_in(out, "raw, 0 bytes: no payload type is registered for test.Unregistered");
}

static void info_lists_the_groups_and_their_dead_letters(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    /* the group acknowledges the garbage after recording its dead letter: close (which waits for
     * the handlers and their confirmed acknowledgements) before reading its position */
    core_err err = CORE_ERR_INIT;
    assert_non_null(own);
    if (am_stream_close(own, 10000, &err) != CORE_OK)
        fail_msg("closing the test's stream: %s", err.msg);
    assert_int_equal(run_tool(NULL, "info --json", out, sizeof out), 0);
    json_t *j = json_line(out, 0);
    assert_non_null(j);
    e2e_expect_json_str(j, "stream.name", stream);
    assert_true(e2e_json_num(j, "stream.messages") >= 5); /* 2 events, garbage, dead, thing */
    e2e_expect_json_num(j, E2E_F("dead.%s", group), 1);
    /* the program's groups (chapter 06: baskets consumes both stores channels) and the test's,
     * by name */
    bool stores = false, products = false, own_group = false;
    const char *prev = "";
    for (long i = 0; i < e2e_json_len(j, "groups"); i++) {
        const char *g = e2e_json_str(j, E2E_F("groups.%ld.group", i));
        const char *subj = e2e_json_str(j, E2E_F("groups.%ld.subject", i));
        assert_non_null(g);
        assert_non_null(subj);
        assert_true(strcmp(prev, g) < 0);
        prev = g;
        if (strcmp(g, "baskets-stores") == 0) {
            stores = true;
            assert_string_equal(subj, E2E_F("%s.stores.events.Store", stream));
        } else if (strcmp(g, "baskets-products") == 0) {
            products = true;
            assert_string_equal(subj, E2E_F("%s.stores.events.Product", stream));
        } else if (strcmp(g, group) == 0) {
            own_group = true;
            assert_string_equal(subj, E2E_F("%s.in", prefix));
            e2e_expect_json_num(j, E2E_F("groups.%ld.pending", i), 0);
            e2e_expect_json_num(j, E2E_F("groups.%ld.ackPending", i), 0);
            e2e_expect_json_num(j, E2E_F("groups.%ld.ackFloor", i), (double)garbage_seq);
        }
    }
    assert_true(stores && products && own_group);
    json_decref(j);
    assert_int_equal(run_tool(NULL, "info", out, sizeof out), 0);
    expect_in(out, E2E_F("stream %s (subjects %s.>)", stream, stream));
    expect_in(out, "baskets-stores");
    expect_in(out, E2E_F("%-24s %-36s", group, E2E_F("%s.in", prefix)));
    expect_in(out, "(events dead lists them)");
}

static void failures_end_with_one_line(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    assert_int_equal(run_tool("NATS_URL=nats://127.0.0.1:1", "info", out, sizeof out), 1);
    expect_in(out, "events: cannot reach the message broker at nats://127.0.0.1:1");
    assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out)); /* one line */

    assert_int_equal(run_tool(E2E_F("NATS_STREAM=%.40s_missing", stream), "tail", out, sizeof out),
                     1);
    expect_in(out, E2E_F("stream %.40s_missing does not exist", stream));

    assert_int_equal(run_tool(NULL, "tail --from x", out, sizeof out), 2);
    expect_in(out, "events: --from needs a stream sequence");
    assert_int_equal(run_tool(NULL, "follow", out, sizeof out), 2);
    expect_in(out, "unknown command \"follow\"");
    assert_int_equal(run_tool(NULL, "tail 'a..b'", out, sizeof out), 2);
    expect_in(out, "is not a subject of the stream");
    assert_int_equal(run_tool(NULL, "--help", out, sizeof out), 0);
    expect_in(out, "usage: events tail");
}

/* ---- main ------------------------------------------------------------------------------------ */

/* Deletes the test's group and the messages it stored. */
static void clean_up(void)
{
    am_stream_free(own);
    own = NULL;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    if (natsConnection_ConnectTo(&nc, nats_url()) == NATS_OK &&
        natsConnection_JetStream(&js, nc, NULL) == NATS_OK) {
        js_DeleteConsumer(js, stream, group, NULL, NULL);
        for (int i = 0; i < n_own; i++)
            js_DeleteMsg(js, stream, own_seqs[i], NULL, NULL);
    }
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
}

int main(void)
{
    const char *ns = getenv("NATS_STREAM");
    snprintf(stream, sizeof stream, "%s", ns && *ns ? ns : "mallbots");
    snprintf(prefix, sizeof prefix, "%s.e2e.events%d", stream, (int)getpid());
    snprintf(group, sizeof group, "e2e-events-%d", (int)getpid());
    const char *bin = getenv("EVENTS_BIN"), *mallbots = getenv("MALLBOTS_BIN");
    if (bin && *bin) {
        snprintf(tool, sizeof tool, "%s", bin);
    } else if (mallbots && strrchr(mallbots, '/')) {
        snprintf(tool, sizeof tool, "%.*s/events", (int)(strrchr(mallbots, '/') - mallbots),
                 mallbots);
    } else {
        fprintf(stderr, "test_events_tool: set MALLBOTS_BIN (or EVENTS_BIN)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_created_store_is_decoded),
        cmocka_unit_test(tail_follows_new_messages),
        cmocka_unit_test(garbage_is_printed_raw_and_its_dead_letter_listed),
        cmocka_unit_test(an_unregistered_name_is_printed_raw),
        cmocka_unit_test(info_lists_the_groups_and_their_dead_letters),
        cmocka_unit_test(failures_end_with_one_line),
        cmocka_unit_test(e2e_shuts_down_cleanly),
    };
    int failed = e2e_run_group("events_tool", &app, tests);
    clean_up();
    am_js_library_close();
    return failed;
}
