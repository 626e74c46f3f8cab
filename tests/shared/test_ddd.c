/* test_ddd.c -- unit tests of ddd.h: events, aggregates, the dispatcher. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ddd.h"
#include "log_capture.h"
#include "pb.h"
#include "rpc_test.pb-c.h"

static long live_at_start;

static int setup(void **state)
{
    (void)state;
    live_at_start = core_alloc_live();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    assert_int_equal(core_alloc_live(), live_at_start); /* nothing leaked */
    return 0;
}

static ProtobufCMessage *payload(const char *text)
{
    Rpctest__EchoRequest *m = pb_new_of(rpctest__echo_request);
    assert_non_null(m);
    assert_int_equal(pb_set_string(&m->text, text, NULL), CORE_OK);
    return &m->base;
}

static void event_owns_its_payload_and_metadata(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    ddd_event *ev = NULL;
    ProtobufCMessage *p = payload("hello");
    assert_int_equal(ddd_event_new(&ev, "test.Happened", &p, &err), CORE_OK);
    assert_null(p); /* ownership taken */
    assert_string_equal(ddd_event_name(ev), "test.Happened");
    assert_true(core_uuid_valid(ddd_event_id(ev)));
    assert_true(ddd_event_payload_is(ev, &rpctest__echo_request__descriptor));
    assert_false(ddd_event_payload_is(ev, &rpctest__echo_reply__descriptor));
    assert_string_equal(((const Rpctest__EchoRequest *)ddd_event_payload(ev))->text, "hello");
    assert_true(ddd_event_occurred_at(ev).tv_sec > 1700000000);

    assert_int_equal(ddd_event_set_metadata(ev, "k", "v1", &err), CORE_OK);
    assert_int_equal(ddd_event_set_metadata(ev, "k", "v2", &err), CORE_OK);
    assert_string_equal(ddd_event_metadata(ev, "k"), "v2");
    assert_null(ddd_event_metadata(ev, "missing"));
    assert_int_equal(ddd_event_metadata_count(ev), 1);
    const char *k = NULL, *v = NULL;
    ddd_event_metadata_at(ev, 0, &k, &v);
    assert_string_equal(k, "k");
    assert_string_equal(v, "v2");
    char key[16];
    for (int i = 1; i < DDD_METADATA_MAX; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(ddd_event_set_metadata(ev, key, "x", &err), CORE_OK);
    }
    assert_int_equal(ddd_event_set_metadata(ev, "one-too-many", "x", &err), CORE_ERR_TOO_LARGE);
    ddd_event_free(ev);
    ddd_event_free(NULL);
}

static void aggregate_records_and_hands_over_events(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct ddd_aggregate agg = DDD_AGGREGATE_INIT("test.Thing");
    assert_int_equal(ddd_aggregate_set_id(&agg, "thing-1", &err), CORE_OK);
    for (int i = 0; i < 3; i++) {
        ProtobufCMessage *p = payload(i == 0 ? "a" : i == 1 ? "b" : "c");
        assert_int_equal(ddd_aggregate_add_event(&agg, "test.Changed", &p, &err), CORE_OK);
    }
    assert_int_equal(agg.events.n, 3);
    assert_string_equal(ddd_event_metadata(agg.events.items[0], "aggregate-name"), "test.Thing");
    assert_string_equal(ddd_event_metadata(agg.events.items[0], "aggregate-id"), "thing-1");

    struct ddd_event_list out = DDD_EVENT_LIST_INIT;
    assert_int_equal(ddd_aggregate_take_events(&agg, &out, &err), CORE_OK);
    assert_int_equal(out.n, 3);
    assert_int_equal(agg.events.n, 0); /* handed over exactly once */
    assert_string_equal(((const Rpctest__EchoRequest *)ddd_event_payload(out.items[2]))->text, "c");
    assert_int_equal(ddd_aggregate_take_events(&agg, &out, &err), CORE_OK);
    assert_int_equal(out.n, 3);
    ddd_event_list_release(&out);

    ProtobufCMessage *p = payload("d");
    assert_int_equal(ddd_aggregate_add_event(&agg, "test.Changed", &p, &err), CORE_OK);
    ddd_aggregate_clear_events(&agg);
    assert_int_equal(agg.events.n, 0);

    char long_id[DDD_ID_MAX + 2];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    assert_int_equal(ddd_aggregate_set_id(&agg, long_id, &err), CORE_ERR_INVALID);
    ddd_aggregate_release(&agg); /* frees events never handed over */
}

/* ---- dispatcher ---- */

struct recorder {
    char calls[8][48];
    int n;
    core_status fail_with;
};

static core_status record(void *ud, const char *who, const ddd_event *ev, core_err *err)
{
    struct recorder *r = ud;
    snprintf(r->calls[r->n++], sizeof r->calls[0], "%s:%s", who, ddd_event_name(ev));
    if (r->fail_with)
        return core_err_set(err, r->fail_with, "no invoice for you");
    return CORE_OK;
}
static core_status handler_a(void *ud, const ddd_event *ev, core_err *err)
{
    return record(ud, "a", ev, err);
}
static core_status handler_b(void *ud, const ddd_event *ev, core_err *err)
{
    return record(ud, "b", ev, err);
}

static void new_events(struct ddd_event_list *list, const char *n1, const char *n2)
{
    ddd_event *ev = NULL;
    assert_int_equal(ddd_event_new(&ev, n1, NULL, NULL), CORE_OK);
    assert_int_equal(ddd_event_list_push(list, &ev, NULL), CORE_OK);
    assert_int_equal(ddd_event_new(&ev, n2, NULL, NULL), CORE_OK);
    assert_int_equal(ddd_event_list_push(list, &ev, NULL), CORE_OK);
}

static void dispatcher_delivers_in_registration_order(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    ddd_dispatcher *d = NULL;
    struct recorder r = {0};
    assert_int_equal(ddd_dispatcher_new(&d, &err), CORE_OK);
    assert_int_equal(ddd_dispatcher_subscribe(d, "x.One", "A", handler_a, &r, &err), CORE_OK);
    assert_int_equal(ddd_dispatcher_subscribe(d, "x.Two", "B", handler_b, &r, &err), CORE_OK);
    assert_int_equal(ddd_dispatcher_subscribe(d, "x.One", "B", handler_b, &r, &err), CORE_OK);
    assert_int_equal(ddd_dispatcher_count(d, "x.One"), 2);
    assert_int_equal(ddd_dispatcher_count(d, "x.None"), 0);

    struct ddd_event_list evs = DDD_EVENT_LIST_INIT;
    new_events(&evs, "x.One", "x.Two");
    assert_int_equal(ddd_dispatcher_publish(d, evs.items, evs.n, &err), CORE_OK);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.calls[0], "a:x.One");
    assert_string_equal(r.calls[1], "b:x.One");
    assert_string_equal(r.calls[2], "b:x.Two");
    ddd_event_list_release(&evs);
    ddd_dispatcher_free(d);
}

static void event_without_handler_is_fine(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    ddd_dispatcher *d = NULL;
    struct recorder r = {0};
    assert_int_equal(ddd_dispatcher_new(&d, &err), CORE_OK);
    assert_int_equal(ddd_dispatcher_subscribe(d, "x.One", "A", handler_a, &r, &err), CORE_OK);
    struct ddd_event_list evs = DDD_EVENT_LIST_INIT;
    new_events(&evs, "x.Unheard", "x.AlsoUnheard");
    assert_int_equal(ddd_dispatcher_publish(d, evs.items, evs.n, &err), CORE_OK);
    assert_int_equal(r.n, 0);
    ddd_event_list_release(&evs);
    ddd_dispatcher_free(d);
}

static void failing_handler_is_reported_and_stops_delivery(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    ddd_dispatcher *d = NULL;
    struct recorder r = {.fail_with = CORE_ERR_UNAVAILABLE};
    assert_int_equal(ddd_dispatcher_new(&d, &err), CORE_OK);
    assert_int_equal(
        ddd_dispatcher_subscribe(d, "x.One", "ordering.InvoiceHandlers", handler_a, &r, &err),
        CORE_OK);
    assert_int_equal(ddd_dispatcher_subscribe(d, "x.One", "B", handler_b, &r, &err), CORE_OK);
    struct ddd_event_list evs = DDD_EVENT_LIST_INIT;
    new_events(&evs, "x.One", "x.One");
    assert_int_equal(ddd_dispatcher_publish(d, evs.items, evs.n, &err), CORE_ERR_UNAVAILABLE);
    assert_int_equal(r.n, 1); /* stopped at the failure, reported, not swallowed */
    assert_string_equal(err.msg, "ordering.InvoiceHandlers on x.One: no invoice for you");
    ddd_event_list_release(&evs);
    ddd_dispatcher_free(d);
}

/* A handler that forgets the detail of its failure. */
static core_status handler_silent(void *ud, const ddd_event *ev, core_err *err)
{
    (void)ud;
    (void)ev;
    (void)err;
    return CORE_ERR_IO;
}

/* The dispatcher writes the book's "-->" and "<--" records around every handler (ddd.h). */
static void dispatcher_logs_each_handler(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    ddd_dispatcher *d = NULL;
    struct recorder r = {0};
    struct log_capture cap;
    char text[4096], want[1024];
    assert_int_equal(ddd_dispatcher_new(&d, &err), CORE_OK);
    assert_int_equal(ddd_dispatcher_subscribe(d, "ordering.OrderReadied",
                                              "ordering.NotificationHandlers", handler_a, &r, &err),
                     CORE_OK);
    assert_int_equal(ddd_dispatcher_subscribe(d, "ordering.OrderReadied",
                                              "ordering.InvoiceHandlers", handler_b, &r, &err),
                     CORE_OK);
    assert_int_equal(ddd_dispatcher_subscribe(d, "x.Silent", "Plain", handler_silent, NULL, &err),
                     CORE_OK);
    struct ddd_event_list evs = DDD_EVENT_LIST_INIT;
    new_events(&evs, "ordering.OrderReadied", "x.Silent");
    const char *id = ddd_event_id(evs.items[0]), *id2 = ddd_event_id(evs.items[1]);
    log_capture_start(&cap, LOG_LEVEL_DEBUG);

    assert_int_equal(ddd_dispatcher_publish(d, evs.items, 1, &err), CORE_OK);
    snprintf(
        want, sizeof want,
        "DEBUG ordering: --> Ordering.NotificationHandlers.On(ordering.OrderReadied) event_id=%s\n"
        "DEBUG ordering: <-- Ordering.NotificationHandlers.On(ordering.OrderReadied) took=Nms\n"
        "DEBUG ordering: --> Ordering.InvoiceHandlers.On(ordering.OrderReadied) event_id=%s\n"
        "DEBUG ordering: <-- Ordering.InvoiceHandlers.On(ordering.OrderReadied) took=Nms\n",
        id, id);
    assert_string_equal(log_capture_take(&cap, text, sizeof text), want);

    /* a failure: the handler's own message (the caller's is wrapped), and the delivery stops */
    r.fail_with = CORE_ERR_UNAVAILABLE;
    assert_int_equal(ddd_dispatcher_publish(d, evs.items, 1, &err), CORE_ERR_UNAVAILABLE);
    assert_string_equal(
        err.msg, "ordering.NotificationHandlers on ordering.OrderReadied: no invoice for you");
    snprintf(
        want, sizeof want,
        "DEBUG ordering: --> Ordering.NotificationHandlers.On(ordering.OrderReadied) event_id=%s\n"
        "DEBUG ordering: <-- Ordering.NotificationHandlers.On(ordering.OrderReadied) "
        "status=CORE_ERR_UNAVAILABLE error=\"no invoice for you\" took=Nms\n",
        id);
    assert_string_equal(log_capture_take(&cap, text, sizeof text), want);

    /* a label without a module part, a handler without detail: the core's words */
    assert_int_equal(ddd_dispatcher_publish(d, evs.items + 1, 1, &err), CORE_ERR_IO);
    assert_string_equal(err.msg, "Plain on x.Silent: i/o error");
    snprintf(
        want, sizeof want,
        "DEBUG Plain: --> Plain.On(x.Silent) event_id=%s\n"
        "DEBUG Plain: <-- Plain.On(x.Silent) status=CORE_ERR_IO error=\"i/o error\" took=Nms\n",
        id2);
    assert_string_equal(log_capture_take(&cap, text, sizeof text), want);

    /* above debug level: no records */
    r.fail_with = CORE_OK;
    log_init(LOG_LEVEL_INFO);
    assert_int_equal(ddd_dispatcher_publish(d, evs.items, 1, &err), CORE_OK);
    assert_string_equal(log_capture_take(&cap, text, sizeof text), "");

    log_capture_stop(&cap, LOG_LEVEL_INFO);
    ddd_event_list_release(&evs);
    ddd_dispatcher_free(d);
}

/* A publisher of another kind behind the same call: it keeps the names it was given. */
struct names_seen {
    char names[4][DDD_NAME_MAX + 1];
    size_t n;
    int calls;
};

static core_status remember(void *impl, ddd_event *const *events, size_t n, core_err *err)
{
    struct names_seen *seen = impl;
    seen->calls++;
    for (size_t i = 0; i < n && seen->n < 4; i++)
        core_strlcpy(seen->names[seen->n++], ddd_event_name(events[i]), sizeof seen->names[0]);
    if (n > 2)
        return core_err_set(err, CORE_ERR_UNAVAILABLE, "the stream is full");
    return CORE_OK;
}

static const struct ddd_publisher_ops remembering_ops = {.kind = "remembering",
                                                         .publish = remember};
static const struct ddd_publisher_ops unfinished_ops = {.kind = "unfinished"}; /* no publish */

/* ddd_publish reaches the dispatcher and any other implementation the same way; a publisher that
 * is not set up is a clear INTERNAL error, not a crash. */
static void publishers_stand_behind_one_call(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    ddd_dispatcher *d = NULL;
    struct recorder r = {0};
    assert_int_equal(ddd_dispatcher_new(&d, &err), CORE_OK);
    assert_int_equal(ddd_dispatcher_subscribe(d, "t.A", "A", handler_a, &r, &err), CORE_OK);
    struct ddd_event_list events = DDD_EVENT_LIST_INIT;
    new_events(&events, "t.A", "t.B");

    struct ddd_publisher dispatcher = ddd_dispatcher_publisher(d);
    assert_string_equal(dispatcher.ops->kind, "dispatcher");
    assert_int_equal(ddd_publish(&dispatcher, events.items, events.n, &err), CORE_OK);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.calls[0], "a:t.A");

    struct names_seen seen = {0};
    struct ddd_publisher other = {&remembering_ops, &seen};
    assert_int_equal(ddd_publish(&other, events.items, events.n, &err), CORE_OK);
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.names[1], "t.B");
    assert_int_equal(ddd_publish(&other, events.items, 0, &err), CORE_OK);
    assert_int_equal(seen.calls, 1);   /* nothing to publish: not called */
    new_events(&events, "t.C", "t.D"); /* 4 events: more than it takes */
    assert_int_equal(ddd_publish(&other, events.items, events.n, &err), CORE_ERR_UNAVAILABLE);
    assert_string_equal(err.msg, "the stream is full");

    struct ddd_publisher unset = {NULL, NULL}, unfinished = {&unfinished_ops, NULL};
    assert_int_equal(ddd_publish(&unset, events.items, events.n, &err), CORE_ERR_INTERNAL);
    assert_string_equal(err.msg, "no publisher is set");
    assert_int_equal(ddd_publish(NULL, events.items, events.n, &err), CORE_ERR_INTERNAL);
    assert_int_equal(ddd_publish(&unfinished, events.items, events.n, &err), CORE_ERR_INTERNAL);
    assert_string_equal(err.msg, "the unfinished publisher cannot publish");
    assert_int_equal(r.n, 1); /* the dispatcher saw only its own call */
    ddd_event_list_release(&events);
    ddd_dispatcher_free(d);
}

static void allocation_failures_leak_nothing(void **state)
{
    (void)state;
    for (long i = 0;; i++) {
        core_err err = CORE_ERR_INIT;
        struct ddd_aggregate agg = DDD_AGGREGATE_INIT("test.Thing");
        ProtobufCMessage *p = payload("x"); /* made before the failure budget starts */
        core_alloc_fail_after(i);
        core_status st = ddd_aggregate_set_id(&agg, "id", &err);
        if (!st)
            st = ddd_aggregate_add_event(&agg, "test.Changed", &p, &err);
        struct ddd_event_list out = DDD_EVENT_LIST_INIT;
        if (!st)
            st = ddd_aggregate_take_events(&agg, &out, &err);
        core_alloc_fail_after(-1);
        assert_null(p); /* taken on success and on failure */
        ddd_event_list_release(&out);
        ddd_aggregate_release(&agg);
        assert_int_equal(core_alloc_live(), live_at_start);
        if (!st)
            break;
        assert_int_equal(st, CORE_ERR_NOMEM);
        assert_true(i < 50);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(event_owns_its_payload_and_metadata, setup, teardown),
        cmocka_unit_test_setup_teardown(aggregate_records_and_hands_over_events, setup, teardown),
        cmocka_unit_test_setup_teardown(dispatcher_delivers_in_registration_order, setup, teardown),
        cmocka_unit_test_setup_teardown(event_without_handler_is_fine, setup, teardown),
        cmocka_unit_test_setup_teardown(failing_handler_is_reported_and_stops_delivery, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(dispatcher_logs_each_handler, setup, teardown),
        cmocka_unit_test_setup_teardown(publishers_stand_behind_one_call, setup, teardown),
        cmocka_unit_test_setup_teardown(allocation_failures_leak_nothing, setup, teardown),
    };
    return cmocka_run_group_tests_name("ddd", tests, NULL, NULL);
}
