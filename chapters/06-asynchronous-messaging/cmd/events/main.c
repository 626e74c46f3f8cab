/* main.c -- events, the stream tool (chapter 06): what is on the NATS JetStream stream, decoded.
 * The `nats` CLI is not in Debian; this is the learner's look at the stream (docs/events.md).
 *
 *   events tail [SUBJECT] [--new | --all | --from SEQ] [--count N] [--json]
 *       follows the messages as they are stored (from now, from the start, or from sequence SEQ)
 *       and prints each one decoded; Ctrl-C stops it, or --count N after N messages
 *   events list [SUBJECT] [--from SEQ] [--count N] [--json]
 *       prints the messages stored now, then exits
 *   events info [--json]
 *       the stream, its consumer groups (pending, ack pending, redelivered, ack floor) and how
 *       many dead letters each group has left
 *   events dead [GROUP] [--json]
 *       the dead letters (of one group), decoded, with their Mallbots-Dead-* headers
 *
 * SUBJECT is a subject of the stream, wildcards allowed, with or without the stream's name in
 * front: "stores.events.Store" = "mallbots.stores.events.Store"; none = every subject.
 *
 * Each message is printed as a block: sequence, time stored, subject; then the message name, id
 * and time it occurred; then its payload as JSON, through the chapter's registry of integration
 * messages (monolith/messages.h: a later chapter that registers more messages decodes them
 * here too) and the core's transcoder (pbjson.h). A message that is not a StreamMessage, or whose
 * name is not registered, or whose data does not decode, is printed raw (size and the first bytes
 * in hex) with the reason: the tool never stops on a message. --json prints one JSON object per
 * message instead (one line each), for scripts and tests.
 *
 * Configuration as the program's (shared/cfg.h): NATS_URL and NATS_STREAM, defaults = the lab's.
 * The tool only looks: it never creates or changes the stream (am.h: existing_only), acknowledges
 * nothing and moves no group; `tail` uses a watch (am.h: an ordered, ephemeral consumer that the
 * server forgets when the tool ends) and is woken by the server's deliveries, not by a timer.
 *
 * Exit status: 0; 1 when the broker cannot be reached, the stream does not exist, or a request
 * fails (one line on stderr: "events: ..."); 2 for a usage error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "am.h"
#include "cfg.h"
#include "ddd.h"
#include "es.h"
#include "log.h"
#include "monolith/messages.h"
#include "pbjson.h"
#include "waiter.h"

#define CONNECT_TIMEOUT_MS 3000
#define HEX_MAX 48 /* bytes of a raw message shown in hex */
#define DEAD_PREFIX "Mallbots-Dead-"

enum mode { MODE_TAIL, MODE_LIST, MODE_INFO, MODE_DEAD };

struct tool {
    enum mode mode;
    char subject[AM_SUBJECT_MAX + 1]; /* the filter, with the stream's name in front */
    const char *arg;                  /* SUBJECT or GROUP as given; NULL = none */
    uint64_t from_seq;                /* tail: AM_WATCH_NEW, 1 (--all) or SEQ; list: 1 or SEQ */
    long count;                       /* stop after this many messages; -1 = no limit */
    bool json;
    const char *stream;
    const char *url;
    es_registry *reg;
    long printed;      /* touched by one thread at a time (the watch's, or main's) */
    bool output_error; /* stdout failed (a closed pipe) */
    bool stopped;      /* on_message ended the walk (--count, or stdout failed) */
};

static void usage(FILE *f)
{
    fputs("usage: events tail [SUBJECT] [--new | --all | --from SEQ] [--count N] [--json]\n"
          "       events list [SUBJECT] [--from SEQ] [--count N] [--json]\n"
          "       events info [--json]\n"
          "       events dead [GROUP] [--json]\n"
          "\n"
          "Looks at the NATS JetStream stream of MallBots (NATS_URL, NATS_STREAM; defaults: the\n"
          "lab's) and prints each message decoded: sequence, time, subject, name, id, payload.\n"
          "\n"
          "  tail   follow the messages as they are stored (Ctrl-C stops)\n"
          "           --new       from now on (the default)\n"
          "           --all       from the first message still stored\n"
          "           --from SEQ  from stream sequence SEQ\n"
          "           --count N   stop after N messages\n"
          "  list   print the messages stored now and exit (--from SEQ, --count N)\n"
          "  info   the stream, its consumer groups (pending, ack pending, redelivered, ack\n"
          "         floor) and their dead letters\n"
          "  dead   the dead letters (of GROUP), with the reasons the consumers gave up\n"
          "\n"
          "SUBJECT: e.g. stores.events.Store or mallbots.stores.events.> (wildcards * and >);\n"
          "default: the whole stream. --json prints one JSON object per message.\n"
          "Run it with `make events ARGS=\"...\"` (see docs/events.md).\n",
          f);
}

static int usage_error(const char *fmt, const char *what)
{
    fprintf(stderr, "events: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, " (events --help shows the usage)\n");
    return 2;
}

/* Parses a positive decimal number; false when text is not one. */
static bool parse_count(const char *text, uint64_t *out)
{
    if (!text || !*text)
        return false;
    uint64_t v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = v;
    return v > 0;
}

/* Parses argv into t; returns -1 when the tool may run, else the exit status (0 after --help). */
static int parse_args(struct tool *t, int argc, char **argv)
{
    int i = 1;
    t->mode = MODE_TAIL;
    t->count = -1;
    t->from_seq = AM_WATCH_NEW;
    if (i < argc && argv[i][0] != '-') {
        const char *m = argv[i++];
        if (strcmp(m, "tail") == 0)
            t->mode = MODE_TAIL;
        else if (strcmp(m, "list") == 0)
            t->mode = MODE_LIST;
        else if (strcmp(m, "info") == 0)
            t->mode = MODE_INFO;
        else if (strcmp(m, "dead") == 0)
            t->mode = MODE_DEAD;
        else
            return usage_error("unknown command \"%s\": tail, list, info or dead", m);
    }
    bool from_given = false, all = false, is_new = false;
    for (; i < argc; i++) {
        const char *a = argv[i];
        uint64_t n = 0;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            t->json = true;
        } else if (strcmp(a, "--all") == 0 && t->mode == MODE_TAIL) {
            all = true;
        } else if (strcmp(a, "--new") == 0 && t->mode == MODE_TAIL) {
            is_new = true;
        } else if (strcmp(a, "--from") == 0 && (t->mode == MODE_TAIL || t->mode == MODE_LIST)) {
            if (i + 1 >= argc || !parse_count(argv[i + 1], &n))
                return usage_error("--from needs a stream sequence (1, 2, ...)%s", "");
            t->from_seq = n;
            from_given = true;
            i++;
        } else if (strcmp(a, "--count") == 0 && (t->mode == MODE_TAIL || t->mode == MODE_LIST)) {
            if (i + 1 >= argc || !parse_count(argv[i + 1], &n) || n > 1000000000)
                return usage_error("--count needs a number of messages (1, 2, ...)%s", "");
            t->count = (long)n;
            i++;
        } else if (a[0] == '-') {
            return usage_error("unknown option %s for this command", a);
        } else if (!t->arg && t->mode != MODE_INFO) {
            t->arg = a;
        } else {
            return usage_error("unexpected argument \"%s\"", a);
        }
    }
    if ((int)from_given + (int)all + (int)is_new > 1)
        return usage_error("give one of --new, --all and --from%s", "");
    if (all)
        t->from_seq = 1;
    if (t->mode == MODE_LIST && !from_given)
        t->from_seq = 1;
    return -1;
}

/* ---- one message --------------------------------------------------------------------------- */

static void set_str(json_t *obj, const char *key, const char *value)
{
    json_object_set_new(
        obj, key,
        json_string(value && pbjson_utf8_valid(value, strlen(value)) ? value : "(not UTF-8)"));
}

/* RFC 3339 UTC text of ns since the epoch, milliseconds shown. */
static void format_time(int64_t ns, char out[PBJSON_TIMESTAMP_MAX])
{
    int64_t sec = ns / 1000000000;
    int32_t ms = (int32_t)((ns % 1000000000) / 1000000);
    if (ns <= 0 || pbjson_timestamp_format(sec, ms * 1000000, out, NULL) != CORE_OK)
        core_strlcpy(out, "-", PBJSON_TIMESTAMP_MAX);
}

/* {"size": n, "reason": "...", "hex": "0a 24 ..."} for bytes the tool cannot decode. */
static json_t *raw_json(const unsigned char *data, size_t len, const char *reason)
{
    char hex[HEX_MAX * 3 + 8];
    size_t n = len < HEX_MAX ? len : HEX_MAX, w = 0;
    hex[0] = '\0';
    for (size_t i = 0; i < n; i++)
        w += (size_t)snprintf(hex + w, sizeof hex - w, "%s%02x", i ? " " : "", data[i]);
    if (len > n)
        snprintf(hex + w, sizeof hex - w, " ...");
    json_t *raw = json_object();
    json_object_set_new(raw, "size", json_integer((json_int_t)len));
    char why[CORE_ERR_MSG_MAX];
    core_strlcpy(why, reason, sizeof why);
    pbjson_make_utf8(why);
    set_str(raw, "reason", why);
    set_str(raw, "hex", hex);
    return raw;
}

/* The headers of a dead letter (am.h), in the order the tool shows them. */
static const char *const DEAD_HEADERS[] = {
    AM_DEAD_HDR_REASON,     AM_DEAD_HDR_GROUP, AM_DEAD_HDR_SUBJECT, AM_DEAD_HDR_SEQUENCE,
    AM_DEAD_HDR_DELIVERIES, AM_DEAD_HDR_ID,    AM_DEAD_HDR_NAME};
#define N_DEAD_HEADERS ((int)(sizeof DEAD_HEADERS / sizeof DEAD_HEADERS[0]))

/* key's place in DEAD_HEADERS; N_DEAD_HEADERS for another Mallbots-Dead-* header; -1 for any
 * other header. */
static int dead_header_rank(const char *key)
{
    for (int i = 0; i < N_DEAD_HEADERS; i++)
        if (strcmp(key, DEAD_HEADERS[i]) == 0)
            return i;
    return strncmp(key, DEAD_PREFIX, strlen(DEAD_PREFIX)) == 0 ? N_DEAD_HEADERS : -1;
}

/* The decoded message as a JSON object (the --json line; the text form is printed from it). */
static json_t *describe(const struct tool *t, const struct am_stored_msg *m)
{
    json_t *o = json_object();
    char when[PBJSON_TIMESTAMP_MAX];
    json_object_set_new(o, "seq", json_integer((json_int_t)m->seq));
    format_time(m->time_ns, when);
    set_str(o, "time", when);
    set_str(o, "subject", m->subject);
    /* a dead letter's headers: the known ones in a fixed order (the server keeps none), then any
     * other Mallbots-Dead-* header a later version may add */
    json_t *dead = NULL;
    for (int rank = 0; rank <= N_DEAD_HEADERS; rank++)
        for (size_t i = 0; i < m->n_headers; i++) {
            if (dead_header_rank(m->headers[i].key) != rank)
                continue;
            if (!dead)
                dead = json_object();
            set_str(dead, m->headers[i].key, m->headers[i].value);
        }
    if (dead)
        json_object_set_new(o, "dead", dead);

    struct am_envelope env = AM_ENVELOPE_INIT;
    core_err err = CORE_ERR_INIT;
    if (am_stream_message_unpack(m->data, m->len, &env, &err) != CORE_OK) {
        json_object_set_new(o, "raw", raw_json(m->data, m->len, err.msg));
        return o;
    }
    set_str(o, "name", env.name);
    set_str(o, "id", env.id);
    ddd_event *ev = NULL;
    json_t *payload = NULL;
    core_status st = am_data_unpack(t->reg, env.id, env.name, env.data, env.len, &ev, &err);
    if (st == CORE_OK && ddd_event_payload(ev))
        st = pbjson_to_json(ddd_event_payload(ev), &payload, &err);
    if (st != CORE_OK) {
        json_object_set_new(o, "raw", raw_json(env.data, env.len, err.msg));
    } else {
        struct timespec at = ddd_event_occurred_at(ev);
        char occurred[PBJSON_TIMESTAMP_MAX];
        if (pbjson_timestamp_format(at.tv_sec, (int32_t)at.tv_nsec, occurred, NULL) == CORE_OK)
            set_str(o, "occurredAt", occurred);
        json_object_set_new(o, "payload", payload ? payload : json_object());
        size_t n = ddd_event_metadata_count(ev);
        if (n > 0) {
            json_t *md = json_object();
            for (size_t i = 0; i < n; i++) {
                const char *k, *v;
                ddd_event_metadata_at(ev, i, &k, &v);
                set_str(md, k, v);
            }
            json_object_set_new(o, "metadata", md);
        }
    }
    ddd_event_free(ev);
    am_envelope_release(&env);
    return o;
}

/* Compact JSON text of v (core_malloc'd) or NULL. */
static char *dump(const json_t *v)
{
    char *text = NULL;
    if (pbjson_dump(v, &text, NULL, NULL) != CORE_OK)
        return NULL;
    return text;
}

static const char *str_of(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* Prints the message's block (or JSON line) on stdout. false when stdout failed. */
static bool print_message(const struct tool *t, json_t *o)
{
    if (t->json) {
        char *line = dump(o);
        bool ok = line && printf("%s\n", line) >= 0 && fflush(stdout) == 0;
        core_free(line);
        return ok;
    }
    printf("#%" JSON_INTEGER_FORMAT "  %s  %s\n", json_integer_value(json_object_get(o, "seq")),
           str_of(o, "time"), str_of(o, "subject"));
    json_t *dead = json_object_get(o, "dead");
    const char *key;
    json_t *value;
    json_object_foreach(dead, key, value) printf("    %s: %s\n", key, json_string_value(value));
    if (json_object_get(o, "name")) {
        printf("    %s  id=%s", str_of(o, "name"), str_of(o, "id"));
        if (json_object_get(o, "occurredAt"))
            printf("  occurred=%s", str_of(o, "occurredAt"));
        printf("\n");
    }
    json_t *payload = json_object_get(o, "payload"), *md = json_object_get(o, "metadata");
    json_t *raw = json_object_get(o, "raw");
    if (payload) {
        char *text = dump(payload);
        printf("    %s\n", text ? text : "(payload not printable)");
        core_free(text);
    }
    if (md) {
        char *text = dump(md);
        printf("    metadata %s\n", text ? text : "-");
        core_free(text);
    }
    if (raw) {
        printf("    raw, %" JSON_INTEGER_FORMAT " bytes: %s\n",
               json_integer_value(json_object_get(raw, "size")), str_of(raw, "reason"));
        if (*str_of(raw, "hex"))
            printf("    hex %s\n", str_of(raw, "hex"));
    }
    return printf("\n") >= 0 && fflush(stdout) == 0;
}

/* am_stored_fn of tail, list and dead: prints m; stops at --count or when stdout failed. */
static core_status on_message(void *ud, const struct am_stored_msg *m, core_err *err)
{
    struct tool *t = ud;
    json_t *o = describe(t, m);
    bool ok = o && print_message(t, o);
    json_decref(o);
    t->printed++;
    if (!ok) {
        t->output_error = true;
    } else if (t->count < 0 || t->printed < t->count) {
        return CORE_OK;
    }
    if (t->mode == MODE_TAIL)
        waiter_request_stop(); /* wakes main() */
    t->stopped = true;
    return core_err_set(err, CORE_ERR_INTERNAL, "stopped after %ld messages", t->printed);
}

/* ---- the commands -------------------------------------------------------------------------- */

static int fail(core_err *err)
{
    fprintf(stderr, "events: %s\n", err->msg);
    return 1;
}

static int run_tail(struct tool *t, am_stream *s)
{
    core_err err = CORE_ERR_INIT;
    am_watch *w = NULL;
    if (am_stream_watch(s, t->subject, t->from_seq, on_message, t, &w, &err) != CORE_OK)
        return fail(&err);
    if (t->from_seq == AM_WATCH_NEW)
        fprintf(stderr, "events: watching %s for new messages (Ctrl-C stops)\n", t->subject);
    else
        fprintf(stderr, "events: watching %s from sequence %" PRIu64 " (Ctrl-C stops)\n",
                t->subject, t->from_seq);
    waiter_wait(-1); /* SIGINT, SIGTERM, or on_message when --count is reached */
    am_watch_free(w);
    return t->output_error ? 1 : 0;
}

static int run_list(struct tool *t, am_stream *s)
{
    core_err err = CORE_ERR_INIT;
    core_status st = am_stream_read(s, t->subject, t->from_seq, on_message, t, &err);
    if (st != CORE_OK && !t->stopped)
        return fail(&err);
    if (t->printed == 0 && !t->json)
        printf("no messages on %s%s\n", t->subject,
               t->mode == MODE_DEAD ? " (no consumer gave up on a message)" : "");
    return t->output_error ? 1 : 0;
}

struct info {
    json_t *groups; /* array */
    json_t *dead;   /* group -> count */
    char dead_prefix[AM_NAME_MAX + 8];
};

static core_status on_group(void *ud, const struct am_group_desc *g, core_err *err)
{
    struct info *in = ud;
    (void)err;
    json_t *o = json_object();
    set_str(o, "group", g->group);
    set_str(o, "subject", g->subject);
    json_object_set_new(o, "pending", json_integer((json_int_t)g->info.pending));
    json_object_set_new(o, "ackPending", json_integer((json_int_t)g->info.ack_pending));
    json_object_set_new(o, "redelivered", json_integer((json_int_t)g->info.redelivered));
    json_object_set_new(o, "ackFloor", json_integer((json_int_t)g->info.ack_floor));
    json_array_append_new(in->groups, o);
    return CORE_OK;
}

static core_status count_dead(void *ud, const struct am_stored_msg *m, core_err *err)
{
    struct info *in = ud;
    (void)err;
    const char *group = am_stored_header(m, AM_DEAD_HDR_GROUP);
    if (!group)
        group = m->subject + strlen(in->dead_prefix);
    json_t *n = json_object_get(in->dead, group);
    json_object_set_new(in->dead, group, json_integer(n ? json_integer_value(n) + 1 : 1));
    return CORE_OK;
}

static int run_info(struct tool *t, am_stream *s)
{
    core_err err = CORE_ERR_INIT;
    struct am_stream_state ss;
    struct info in = {json_array(), json_object(), {0}};
    snprintf(in.dead_prefix, sizeof in.dead_prefix, "%s.dead.", t->stream);
    char dead_filter[AM_NAME_MAX + 8];
    snprintf(dead_filter, sizeof dead_filter, "%s.dead.>", t->stream);
    core_status st = am_stream_state_get(s, &ss, &err);
    if (st == CORE_OK)
        st = am_stream_groups(s, on_group, &in, &err);
    if (st == CORE_OK)
        st = am_stream_read(s, dead_filter, 1, count_dead, &in, &err);
    if (st != CORE_OK) {
        json_decref(in.groups);
        json_decref(in.dead);
        return fail(&err);
    }
    bool ok;
    if (t->json) {
        json_t *o = json_object();
        json_t *so = json_object();
        set_str(so, "name", t->stream);
        set_str(so, "url", t->url);
        json_object_set_new(so, "messages", json_integer((json_int_t)ss.messages));
        json_object_set_new(so, "bytes", json_integer((json_int_t)ss.bytes));
        json_object_set_new(so, "firstSeq", json_integer((json_int_t)ss.first_seq));
        json_object_set_new(so, "lastSeq", json_integer((json_int_t)ss.last_seq));
        json_object_set_new(so, "consumers", json_integer((json_int_t)ss.consumers));
        json_object_set_new(o, "stream", so);
        json_object_set_new(o, "groups", in.groups);
        json_object_set_new(o, "dead", in.dead);
        char *line = dump(o);
        ok = line && printf("%s\n", line) >= 0;
        core_free(line);
        json_decref(o);
    } else {
        printf("stream %s (subjects %s.>) at %s\n", t->stream, t->stream, t->url);
        printf("  %" PRIu64 " messages, %" PRIu64 " bytes, sequences %" PRIu64 "..%" PRIu64
               ", %" PRIu64 " consumers\n\n",
               ss.messages, ss.bytes, ss.first_seq, ss.last_seq, ss.consumers);
        size_t i;
        json_t *g;
        if (json_array_size(in.groups) == 0)
            printf("no consumer groups yet (the program makes them when it starts)\n");
        else
            printf("%-24s %-36s %8s %12s %12s %10s %6s\n", "GROUP", "SUBJECT", "PENDING",
                   "ACK-PENDING", "REDELIVERED", "ACK-FLOOR", "DEAD");
        json_array_foreach(in.groups, i, g)
        {
            json_t *d = json_object_get(in.dead, str_of(g, "group"));
            printf("%-24s %-36s %8" JSON_INTEGER_FORMAT " %12" JSON_INTEGER_FORMAT
                   " %12" JSON_INTEGER_FORMAT " %10" JSON_INTEGER_FORMAT " %6" JSON_INTEGER_FORMAT
                   "\n",
                   str_of(g, "group"), str_of(g, "subject"),
                   json_integer_value(json_object_get(g, "pending")),
                   json_integer_value(json_object_get(g, "ackPending")),
                   json_integer_value(json_object_get(g, "redelivered")),
                   json_integer_value(json_object_get(g, "ackFloor")),
                   d ? json_integer_value(d) : 0);
        }
        json_int_t total = 0;
        const char *key;
        json_t *value;
        json_object_foreach(in.dead, key, value) total += json_integer_value(value);
        printf("\ndead letters: %" JSON_INTEGER_FORMAT "%s\n", total,
               total ? " (events dead lists them)" : "");
        ok = fflush(stdout) == 0;
        json_decref(in.groups);
        json_decref(in.dead);
    }
    return ok ? 0 : 1;
}

/* ---- main ---------------------------------------------------------------------------------- */

/* The filter for t->arg: SUBJECT (tail, list) or the dead letters of GROUP (dead). */
static int make_subject(struct tool *t)
{
    size_t n = strlen(t->stream);
    if (t->mode == MODE_DEAD) {
        if (t->arg && !am_name_valid(t->arg))
            return usage_error("\"%s\" is not a group name", t->arg);
        snprintf(t->subject, sizeof t->subject, "%s.dead.%s", t->stream, t->arg ? t->arg : ">");
    } else if (!t->arg) {
        snprintf(t->subject, sizeof t->subject, "%s.>", t->stream);
    } else if (strncmp(t->arg, t->stream, n) == 0 && t->arg[n] == '.') {
        core_strlcpy(t->subject, t->arg, sizeof t->subject);
    } else {
        snprintf(t->subject, sizeof t->subject, "%s.%s", t->stream, t->arg);
    }
    if (!am_subject_valid(t->subject, true))
        return usage_error("\"%s\" is not a subject of the stream", t->arg ? t->arg : "");
    return -1;
}

int main(int argc, char **argv)
{
    struct tool t = {0};
    core_err err = CORE_ERR_INIT;
    int rc = parse_args(&t, argc, argv);
    if (rc >= 0)
        return rc;
    struct cfg_app cfg;
    if (waiter_block_signals(&err) || cfg_load(&cfg, &err)) {
        fprintf(stderr, "events: configuration: %s\n", err.msg);
        return 2;
    }
    /* the core's own records only when they matter (LOG_LEVEL set by hand shows more) */
    log_level level = LOG_LEVEL_WARN;
    const char *env_level = getenv("LOG_LEVEL");
    if (env_level && *env_level)
        level = cfg.log_level;
    log_init(level);
    t.stream = cfg.nats_stream;
    t.url = cfg.nats_url;
    if ((rc = make_subject(&t)) >= 0)
        return rc;

    if (es_registry_new(&t.reg, &err) || monolith_register_messages(t.reg, &err)) {
        es_registry_free(t.reg);
        return fail(&err);
    }
    struct am_js_opts o = AM_JS_OPTS_INIT;
    o.url = cfg.nats_url;
    o.stream = cfg.nats_stream;
    o.name = "mallbots-events";
    o.connect_timeout_ms = CONNECT_TIMEOUT_MS;
    o.existing_only = true;
    am_stream *s = NULL;
    core_status st = am_js_stream_new(&s, &o, &err);
    if (st == CORE_ERR_NOT_FOUND)
        core_err_wrap(&err, "NATS_STREAM=%s (the program creates it when it starts: make run)",
                      cfg.nats_stream);
    if (st != CORE_OK) {
        rc = fail(&err);
    } else if (t.mode == MODE_TAIL) {
        rc = run_tail(&t, s);
    } else if (t.mode == MODE_INFO) {
        rc = run_info(&t, s);
    } else {
        rc = run_list(&t, s);
    }
    am_stream_free(s);
    es_registry_free(t.reg);
    am_js_library_close();
    return rc;
}
