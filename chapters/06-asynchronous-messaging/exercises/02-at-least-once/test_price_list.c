/* test_price_list.c -- exercise 06.2: a handler that fails, is redelivered and ends dead, and a
 * handler that a redelivery does not fool (baskets/price_list.c: apply_message).
 *
 * The tests are the to-do list of the exercise, in the order the README suggests: the four
 * messages, each acknowledged once; a failure that is retried and ends as a dead letter; a failure
 * that heals on a later delivery; the redeliveries that must change nothing (a lost
 * acknowledgement, after a price change and after a ProductAdded); all or nothing.
 *
 * The broker is the in-memory one of am.h: the test publishes the stores' messages itself, and
 * nothing is delivered until it calls am_mem_broker_run() (everything due) or
 * am_mem_broker_step() (one delivery). It can also lose an acknowledgement
 * (am_mem_broker_fail(..., AM_MEM_FAIL_ACK, 1)) and let the ack wait run out
 * (am_mem_broker_expire()), as a real server would after a network failure. No servers. Every test
 * also checks that it leaked nothing.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "am.h"
#include "baskets/price_list.h"
#include "core.h"
#include "ddd.h"
#include "es.h"
#include "log.h"
#include "pb.h"
#include "stores/events.h"

/* ---- the log, captured (the core logs each retry at WARN) ------------------------------------ */

static struct {
    char text[16384];
    size_t len;
} logged;

static void sink(void *ud, const char *line, size_t len)
{
    (void)ud;
    if (logged.len + len < sizeof logged.text) {
        memcpy(logged.text + logged.len, line, len);
        logged.len += len;
        logged.text[logged.len] = '\0';
    }
}

static int count_logged(const char *text)
{
    int n = 0;
    for (const char *p = strstr(logged.text, text); p; p = strstr(p + 1, text))
        n++;
    return n;
}

/* ---- fixture --------------------------------------------------------------------------------- */

static long live_at_start;
static am_mem_broker *broker;
static am_stream *stream;
static es_registry *types;
static baskets_price_list *list;

static int setup(void **state)
{
    (void)state;
    memset(&logged, 0, sizeof logged);
    live_at_start = core_alloc_live();
    core_err err = CORE_ERR_INIT;
    if (am_mem_broker_new(&broker, &err) || am_mem_stream_new(&stream, broker, "mallbots", &err) ||
        es_registry_new(&types, &err) || stores_register_integration_types(types, &err) ||
        baskets_price_list_new(&list, &err) ||
        baskets_subscribe_price_list(stream, types, list, &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    log_init(LOG_LEVEL_INFO);
    log_sink_set(sink, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    log_sink_set(NULL, NULL);
    log_init(LOG_LEVEL_WARN);
    am_stream_free(stream);
    baskets_price_list_free(list);
    am_mem_broker_free(broker);
    es_registry_free(types);
    if (core_alloc_live() != live_at_start) {
        print_error("error: %ld allocation(s) not freed\n", core_alloc_live() - live_at_start);
        return -1;
    }
    return 0;
}

#define expect_ok(call)                                                                            \
    do {                                                                                           \
        core_err e_ = CORE_ERR_INIT;                                                               \
        core_err *err = &e_;                                                                       \
        if ((call) != CORE_OK)                                                                     \
            fail_msg("%s: %s", #call, e_.msg);                                                     \
    } while (0)

/* ---- the stores' messages -------------------------------------------------------------------- */

static ProtobufCMessage *added(const char *id, double price)
{
    Storesapi__ProductAdded *m = pb_new_of(storesapi__product_added);
    assert_non_null(m);
    expect_ok(pb_set_string(&m->id, id, err));
    expect_ok(pb_set_string(&m->store_id, "s-1", err));
    expect_ok(pb_set_string(&m->name, "Lava Lamp", err));
    m->price = price;
    return &m->base;
}

static ProtobufCMessage *price_changed(const char *id, double delta)
{
    Storesapi__ProductPriceChanged *m = pb_new_of(storesapi__product_price_changed);
    assert_non_null(m);
    expect_ok(pb_set_string(&m->id, id, err));
    m->delta = delta;
    return &m->base;
}

static ProtobufCMessage *removed(const char *id)
{
    Storesapi__ProductRemoved *m = pb_new_of(storesapi__product_removed);
    assert_non_null(m);
    expect_ok(pb_set_string(&m->id, id, err));
    return &m->base;
}

/* An event named name with payload (taken) and message id id. */
static ddd_event *event(const char *name, ProtobufCMessage *payload, const char *id)
{
    ddd_event *ev = NULL;
    expect_ok(ddd_event_new(&ev, name, &payload, err));
    struct timespec now = {1700000000, 0};
    expect_ok(ddd_event_restore(ev, id, now, err));
    return ev;
}

/* Publishes a message as the stores module does, with message id id. */
static void publish(const char *name, ProtobufCMessage *payload, const char *id)
{
    ddd_event *ev = event(name, payload, id);
    core_err e = CORE_ERR_INIT;
    core_status st = am_event_publish(stream, STORES_PRODUCT_CHANNEL, ev, &e);
    ddd_event_free(ev);
    if (st)
        fail_msg("publishing %s: %s", name, e.msg);
}

/* Hands a message to the handler directly, as delivery `delivered` of 5. */
static core_status handle(const char *name, ProtobufCMessage *payload, const char *id,
                          uint64_t delivered, core_err *err)
{
    ddd_event *ev = event(name, payload, id);
    struct am_delivery d = {
        STORES_PRODUCT_CHANNEL, BASKETS_PRICES_GROUP, id, name, delivered, 1, 5};
    core_status st = baskets_price_list_handle(list, &d, ev, err);
    ddd_event_free(ev);
    return st;
}

/* ---- checking -------------------------------------------------------------------------------- */

static void check_price(const char *id, double want, const char *file, int line)
{
    double got = 0;
    core_err err = CORE_ERR_INIT;
    core_status st = baskets_price_list_price(list, id, &got, &err);
    if (st) {
        print_error("error: the price of %s: wanted %.4f, got %s \"%s\"\n", id, want,
                    core_status_name(st), err.msg);
        _fail(file, line);
    } else if (got != want) {
        print_error("error: the price of %s: wanted %.4f, got %.17g%s\n", id, want, got,
                    got != want && (got - want < 1e-9 && want - got < 1e-9)
                        ? " (kept to 4 decimals with round4()?)"
                        : "");
        _fail(file, line);
    }
}
#define expect_price(id, want) check_price((id), (want), __FILE__, __LINE__)

static void check_absent(const char *id, const char *file, int line)
{
    double got = 0;
    core_err err = CORE_ERR_INIT;
    core_status st = baskets_price_list_price(list, id, &got, &err);
    if (st != CORE_ERR_NOT_FOUND) {
        print_error("error: the price of %s: wanted CORE_ERR_NOT_FOUND (not in the list), got "
                    "%s %.4f\n",
                    id, core_status_name(st), got);
        _fail(file, line);
    }
}
#define expect_absent(id) check_absent((id), __FILE__, __LINE__)

static void check_applied(size_t want, const char *why, const char *file, int line)
{
    size_t got = baskets_price_list_applied(list);
    if (got != want) {
        print_error("error: messages applied (baskets_price_list_applied): wanted %zu, got %zu "
                    "(%s)\n",
                    want, got, why);
        _fail(file, line);
    }
}
#define expect_applied(want, why) check_applied((want), (why), __FILE__, __LINE__)

/* Nothing is waiting for the group: every message was acknowledged. */
static void check_all_acknowledged(const char *file, int line)
{
    struct am_group_info gi;
    core_err err = CORE_ERR_INIT;
    if (am_stream_group_info(stream, BASKETS_PRICES_GROUP, &gi, &err))
        fail_msg("group info: %s", err.msg);
    if (gi.pending || gi.ack_pending) {
        print_error("error: the group has %" PRIu64 " message(s) not yet delivered and %" PRIu64
                    " not acknowledged; wanted none\n",
                    gi.pending, gi.ack_pending);
        _fail(file, line);
    }
}
#define expect_all_acknowledged() check_all_acknowledged(__FILE__, __LINE__)

/* The dead letters of the group: count, and the first one's reason and deliveries. */
struct dead {
    int n;
    char reason[CORE_ERR_MSG_MAX + 64];
    char deliveries[16];
    char msg_id[CORE_UUID_LEN + 1];
};

static core_status collect_dead(void *ud, const struct am_stored_msg *m, core_err *err)
{
    (void)err;
    struct dead *d = ud;
    if (d->n++ == 0) {
        const char *v = am_stored_header(m, AM_DEAD_HDR_REASON);
        core_strlcpy(d->reason, v ? v : "", sizeof d->reason);
        v = am_stored_header(m, AM_DEAD_HDR_DELIVERIES);
        core_strlcpy(d->deliveries, v ? v : "", sizeof d->deliveries);
        v = am_stored_header(m, AM_DEAD_HDR_ID);
        core_strlcpy(d->msg_id, v ? v : "", sizeof d->msg_id);
    }
    return CORE_OK;
}

static struct dead dead_letters(void)
{
    struct dead d;
    memset(&d, 0, sizeof d);
    expect_ok(am_stream_read(stream, "mallbots.dead.baskets-prices", 0, collect_dead, &d, err));
    return d;
}

#define ID_ADDED "00000000-0000-4000-8000-000000000001"
#define ID_UP "00000000-0000-4000-8000-000000000002"
#define ID_DOWN "00000000-0000-4000-8000-000000000003"
#define ID_GONE "00000000-0000-4000-8000-000000000004"
#define ID_UP2 "00000000-0000-4000-8000-000000000005"

/* ---- 1. each message, acknowledged once ------------------------------------------------------ */

static void each_message_changes_the_list_once(void **state)
{
    (void)state;
    size_t n = 0;
    publish(STORESAPI_PRODUCT_ADDED, added("p-1", 9.99), ID_ADDED);
    am_mem_broker_run(broker, &n);
    assert_int_equal(n, 1);
    expect_price("p-1", 9.99);
    expect_applied(1, "one ProductAdded");

    publish(STORESAPI_PRODUCT_PRICE_INCREASED, price_changed("p-1", 2.51), ID_UP);
    am_mem_broker_run(broker, &n);
    expect_price("p-1", 12.5); /* 9.99 + 2.51 is 12.500000000000002 in binary floating point */
    publish(STORESAPI_PRODUCT_PRICE_DECREASED, price_changed("p-1", -2.5), ID_DOWN);
    am_mem_broker_run(broker, &n);
    expect_price("p-1", 10);
    expect_applied(3, "a ProductAdded and two price changes");

    publish(STORESAPI_PRODUCT_REMOVED, removed("p-1"), ID_GONE);
    am_mem_broker_run(broker, &n);
    expect_absent("p-1");
    expect_applied(4, "and a ProductRemoved");

    /* a success acknowledges: the ack wait running out brings nothing back */
    expect_all_acknowledged();
    am_mem_broker_expire(broker);
    am_mem_broker_run(broker, &n);
    assert_int_equal(n, 0);
    assert_int_equal(dead_letters().n, 0);
}

/* Two products, and a removal of a product the list never had (nothing to do: a success). */
static void products_are_kept_apart(void **state)
{
    (void)state;
    publish(STORESAPI_PRODUCT_ADDED, added("p-1", 1.25), ID_ADDED);
    publish(STORESAPI_PRODUCT_ADDED, added("p-2", 30), ID_UP);
    publish(STORESAPI_PRODUCT_PRICE_INCREASED, price_changed("p-2", 0.5), ID_DOWN);
    publish(STORESAPI_PRODUCT_REMOVED, removed("p-9"), ID_GONE);
    am_mem_broker_run(broker, NULL);
    expect_price("p-1", 1.25);
    expect_price("p-2", 30.5);
    expect_absent("p-9");
    expect_all_acknowledged();
    assert_int_equal(dead_letters().n, 0);
}

/* ---- 2. failures: NAK, redelivery, dead letter ----------------------------------------------- */

/* A price change of a product the list never gets fails at every delivery: the core NAKs it, it
 * comes back with the delivery count + 1, and after the 5th it is recorded as a dead letter with
 * the handler's message as the reason. */
static void a_failure_is_retried_then_dead(void **state)
{
    (void)state;
    size_t n = 0;
    publish(STORESAPI_PRODUCT_PRICE_INCREASED, price_changed("p-9", 1), ID_UP);
    am_mem_broker_run(broker, &n);
    assert_int_equal(n, AM_MAX_DELIVER_DEFAULT);
    for (int k = 1; k < AM_MAX_DELIVER_DEFAULT; k++) {
        char want[32];
        snprintf(want, sizeof want, "delivery=%d/%d", k, AM_MAX_DELIVER_DEFAULT);
        if (count_logged(want) != 1)
            fail_msg("wanted one retry logged with %s; the log:\n%s", want, logged.text);
    }
    /* the backoff doubled at each retry: 1000, 2000, 4000, 8000 ms */
    assert_int_equal(am_mem_broker_last_nak_delay(broker), 8000);

    struct dead d = dead_letters();
    assert_int_equal(d.n, 1);
    if (strcmp(d.reason, "handler failed on delivery 5 of 5: product p-9 is not in the price "
                         "list") != 0)
        fail_msg("the dead letter's reason: wanted \"handler failed on delivery 5 of 5: product "
                 "p-9 is not in the price list\", got \"%s\"",
                 d.reason);
    assert_string_equal(d.deliveries, "5");
    assert_string_equal(d.msg_id, ID_UP);
    expect_applied(0, "a message that failed changes nothing");
    expect_all_acknowledged(); /* the dead letter is recorded, the original acknowledged */
}

/* Bad data fails the same way (the event handler cannot shorten the retries): a message without
 * a product id. */
static void bad_data_ends_as_a_dead_letter(void **state)
{
    (void)state;
    publish(STORESAPI_PRODUCT_ADDED, added("", 5), ID_ADDED);
    am_mem_broker_run(broker, NULL);
    struct dead d = dead_letters();
    assert_int_equal(d.n, 1);
    if (strcmp(d.reason, "handler failed on delivery 5 of 5: storesapi.ProductAdded has no "
                         "product id") != 0)
        fail_msg("the dead letter's reason: got \"%s\"", d.reason);
    expect_applied(0, "bad data changes nothing");
}

/* A failure that heals: the price change arrives before its product. On JetStream the next
 * message (the ProductAdded) is delivered while the NAKed one waits for its retry delay; the
 * memory broker does not wait, so the test hands the ProductAdded to the handler itself between
 * two deliveries. The redelivery then succeeds. */
static void a_failure_heals_on_redelivery(void **state)
{
    (void)state;
    publish(STORESAPI_PRODUCT_PRICE_INCREASED, price_changed("p-1", 2.5), ID_UP);
    assert_true(am_mem_broker_step(broker)); /* delivery 1: p-1 is unknown, NAKed */
    expect_applied(0, "the price change failed");
    expect_absent("p-1");
    core_err e = CORE_ERR_INIT;
    if (handle(STORESAPI_PRODUCT_ADDED, added("p-1", 10), ID_ADDED, 1, &e))
        fail_msg("ProductAdded: %s", e.msg);
    size_t n = 0;
    am_mem_broker_run(broker, &n); /* delivery 2 of the price change */
    assert_int_equal(n, 1);
    expect_price("p-1", 12.5);
    expect_applied(2, "the ProductAdded and, on its 2nd delivery, the price change");
    expect_all_acknowledged();
    assert_int_equal(dead_letters().n, 0);
}

/* ---- 3. redeliveries that must change nothing ------------------------------------------------ */

/* The handler applied a price change, but its acknowledgement was lost: after the ack wait the
 * same message (same id) comes again. Applying it again would move the price twice. */
static void a_lost_ack_does_not_move_the_price_twice(void **state)
{
    (void)state;
    publish(STORESAPI_PRODUCT_ADDED, added("p-1", 10), ID_ADDED);
    publish(STORESAPI_PRODUCT_PRICE_INCREASED, price_changed("p-1", 2.5), ID_UP);
    assert_true(am_mem_broker_step(broker)); /* the ProductAdded, acknowledged */
    am_mem_broker_fail(broker, AM_MEM_FAIL_ACK, 1);
    assert_true(am_mem_broker_step(broker)); /* the price change, applied; its ack is lost */
    expect_price("p-1", 12.5);
    am_mem_broker_expire(broker); /* the ack wait runs out: the server sends it again */
    size_t n = 0;
    am_mem_broker_run(broker, &n);
    assert_int_equal(n, 1);
    expect_price("p-1", 12.5);
    expect_applied(2, "the price change was delivered twice, and applied once");
    expect_all_acknowledged(); /* the second delivery was acknowledged */
    assert_int_equal(dead_letters().n, 0);

    /* another message with the same content is another change: idempotent by message id */
    publish(STORESAPI_PRODUCT_PRICE_INCREASED, price_changed("p-1", 2.5), ID_UP2);
    am_mem_broker_run(broker, NULL);
    expect_price("p-1", 15);
    expect_applied(3, "a second price change of +2.5, with its own message id");
}

/* The ProductAdded's acknowledgement is lost, and a price change is applied before the
 * ProductAdded comes back. Applying the ProductAdded again would undo the price change. */
static void a_late_redelivery_does_not_undo_later_changes(void **state)
{
    (void)state;
    publish(STORESAPI_PRODUCT_ADDED, added("p-1", 10), ID_ADDED);
    publish(STORESAPI_PRODUCT_PRICE_DECREASED, price_changed("p-1", -2.5), ID_DOWN);
    am_mem_broker_fail(broker, AM_MEM_FAIL_ACK, 1);
    size_t n = 0;
    am_mem_broker_run(broker, &n); /* both applied; the ProductAdded's ack is lost */
    assert_int_equal(n, 2);
    expect_price("p-1", 7.5);
    am_mem_broker_expire(broker);
    am_mem_broker_run(broker, &n); /* the ProductAdded again, delivery 2 */
    assert_int_equal(n, 1);
    expect_price("p-1", 7.5);
    expect_applied(2, "the ProductAdded was delivered twice, and applied once");
    expect_all_acknowledged();
}

/* The handler, called directly: the same message id twice is one change, whatever the delivery
 * count says; a message that failed leaves no trace, so its retry is applied. */
static void the_message_id_decides(void **state)
{
    (void)state;
    core_err e = CORE_ERR_INIT;
    assert_int_equal(
        handle(STORESAPI_PRODUCT_PRICE_INCREASED, price_changed("p-1", 1), ID_UP, 1, &e),
        CORE_ERR_NOT_FOUND);
    assert_string_equal(e.msg, "product p-1 is not in the price list");
    expect_ok(handle(STORESAPI_PRODUCT_ADDED, added("p-1", 1), ID_ADDED, 1, err));
    expect_ok(handle(STORESAPI_PRODUCT_ADDED, added("p-1", 1), ID_ADDED, 1, err));
    expect_ok(handle(STORESAPI_PRODUCT_PRICE_INCREASED, price_changed("p-1", 1), ID_UP, 2, err));
    expect_ok(handle(STORESAPI_PRODUCT_PRICE_INCREASED, price_changed("p-1", 1), ID_UP, 3, err));
    expect_price("p-1", 2);
    expect_applied(2, "two messages, each handled twice");

    /* a message the handler cannot use is refused, and changes nothing */
    Storesapi__ProductRebranded *r = pb_new_of(storesapi__product_rebranded);
    assert_non_null(r);
    expect_ok(pb_set_string(&r->id, "p-1", err));
    assert_int_equal(handle(STORESAPI_PRODUCT_REBRANDED, &r->base, ID_GONE, 1, &e),
                     CORE_ERR_INTERNAL);
    assert_string_equal(e.msg, "the price list does not handle storesapi.ProductRebranded");
    expect_applied(2, "a ProductRebranded is not the price list's");
}

/* ---- 4. all or nothing ----------------------------------------------------------------------- */

/* Each allocation of the handler fails in turn: CORE_ERR_NOMEM, the list unchanged and the
 * message id not remembered (else the retry would be skipped as "applied"). */
static void out_of_memory_changes_nothing(void **state)
{
    (void)state;
    int failures = 0;
    for (int k = 0; k < 12; k++) {
        char pid[16];
        snprintf(pid, sizeof pid, "p-%d", k);
        char id[CORE_UUID_LEN + 1];
        snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", 100 + k);
        ddd_event *ev = event(STORESAPI_PRODUCT_ADDED, added(pid, k), id);
        struct am_delivery d = {
            STORES_PRODUCT_CHANNEL, BASKETS_PRICES_GROUP, id, STORESAPI_PRODUCT_ADDED, 1, 1, 5};
        core_status st = CORE_ERR_NOMEM;
        for (long n = 0; n < 10 && st; n++) {
            core_err e = CORE_ERR_INIT;
            core_alloc_fail_after(n);
            st = baskets_price_list_handle(list, &d, ev, &e);
            core_alloc_fail_after(-1);
            if (st == CORE_OK)
                break;
            failures++;
            if (st != CORE_ERR_NOMEM)
                fail_msg("allocation %ld failing: wanted CORE_ERR_NOMEM, got %s \"%s\"", n,
                         core_status_name(st), e.msg);
            expect_absent(pid);
            expect_applied((size_t)k, "a message that ran out of memory changes nothing");
        }
        ddd_event_free(ev);
        assert_int_equal(st, CORE_OK);
        expect_price(pid, k);
    }
    if (failures == 0)
        fail_msg("the handler never allocated: where does it keep the message ids?");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(each_message_changes_the_list_once),
        T(products_are_kept_apart),
        T(a_failure_is_retried_then_dead),
        T(bad_data_ends_as_a_dead_letter),
        T(a_failure_heals_on_redelivery),
        T(a_lost_ack_does_not_move_the_price_twice),
        T(a_late_redelivery_does_not_undo_later_changes),
        T(the_message_id_decides),
        T(out_of_memory_changes_nothing),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
