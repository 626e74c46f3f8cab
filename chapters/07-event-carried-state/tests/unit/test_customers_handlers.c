/* test_customers_handlers.c -- unit tests of customers/handlers.h (chapter 07): the
 * IntegrationEventHandlers on a real ddd_dispatcher, publishing on the in-memory stream (am.h),
 * fed by the application's commands over a fake repository (tests/support/customers_fakes.h).
 * Checked: each of the four commands puts its integration event on
 * mallbots.customers.events.Customer with the customer's id in the payload and the DOMAIN
 * event's id as message id; ChangeSmsNumber's rules (blank number, unknown id) publish nothing;
 * a broker that is away is the command's 503 with the customer saved. No servers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "am.h"
#include "customers/application.h"
#include "customers/domain_events.pb-c.h"
#include "customers/events.h"
#include "customers/handlers.h"
#include "customers_fakes.h"
#include "monolith/messages.h"
#include "pb.h"
#include "stream_recorder.h"

static struct customers_fake_repo db;
static struct customers_app app;
static ddd_dispatcher *dispatcher;
static am_mem_broker *broker;
static am_stream *stream;
static es_registry *messages;
static struct stream_recorder rec;
static long live_at_start;

/* The ids of the domain events the application published, in order. */
static struct {
    char ids[8][CORE_UUID_LEN + 1];
    size_t n;
} domain;

static core_status note_domain_id(void *ud, const ddd_event *ev, core_err *err)
{
    (void)ud;
    (void)err;
    assert_true(domain.n < 8);
    core_strlcpy(domain.ids[domain.n++], ddd_event_id(ev), sizeof domain.ids[0]);
    return CORE_OK;
}

static int setup(void **state)
{
    (void)state;
    live_at_start = core_alloc_live();
    memset(&db, 0, sizeof db);
    memset(&domain, 0, sizeof domain);
    assert_int_equal(ddd_dispatcher_new(&dispatcher, NULL), CORE_OK);
    static const char *const names[] = {CUSTOMERS_CUSTOMER_REGISTERED,
                                        CUSTOMERS_CUSTOMER_SMS_CHANGED, CUSTOMERS_CUSTOMER_ENABLED,
                                        CUSTOMERS_CUSTOMER_DISABLED};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(
            ddd_dispatcher_subscribe(dispatcher, names[i], "test.Ids", note_domain_id, NULL, NULL),
            CORE_OK);
    assert_int_equal(am_mem_broker_new(&broker, NULL), CORE_OK);
    assert_int_equal(am_mem_stream_new(&stream, broker, "mallbots", NULL), CORE_OK);
    assert_int_equal(es_registry_new(&messages, NULL), CORE_OK);
    assert_int_equal(monolith_register_messages(messages, NULL), CORE_OK);
    assert_int_equal(customers_register_integration_handlers(dispatcher, stream, NULL), CORE_OK);
    stream_recorder_subscribe(&rec, stream, CUSTOMERS_CUSTOMER_CHANNEL, "test-customers", messages);
    customers_fake_repo_port(&app.customers, &db);
    app.publisher = ddd_dispatcher_publisher(dispatcher);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    stream_recorder_release(&rec);
    am_stream_free(stream);
    am_mem_broker_free(broker);
    es_registry_free(messages);
    customers_fake_repo_release(&db);
    ddd_dispatcher_free(dispatcher);
    assert_int_equal(core_alloc_live(), live_at_start);
    return 0;
}

static void every_change_is_announced_with_the_domain_events_id(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(customers_app_register_customer(&app, "c-1", "John Smith", "555-1212", &err),
                     CORE_OK);
    assert_int_equal(customers_app_change_sms_number(&app, "c-1", "555-9999", &err), CORE_OK);
    assert_int_equal(customers_app_disable_customer(&app, "c-1", &err), CORE_OK);
    assert_int_equal(customers_app_enable_customer(&app, "c-1", &err), CORE_OK);
    assert_int_equal(customers_app_authorize_customer(&app, "c-1", &err), CORE_OK); /* not sent */
    am_mem_broker_run(broker, NULL);

    assert_int_equal(rec.n, 4);
    assert_int_equal(domain.n, 4);
    static const char *const want[] = {
        CUSTOMERSAPI_CUSTOMER_REGISTERED, CUSTOMERSAPI_CUSTOMER_SMS_CHANGED,
        CUSTOMERSAPI_CUSTOMER_DISABLED, CUSTOMERSAPI_CUSTOMER_ENABLED};
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(rec.names[i], want[i]);
        assert_string_equal(rec.ids[i], domain.ids[i]);
    }
    Customersapi__CustomerRegistered *reg =
        (void *)stream_recorder_payload(&rec, 0, &customersapi__customer_registered__descriptor);
    assert_string_equal(reg->id, "c-1");
    assert_string_equal(reg->name, "John Smith");
    assert_string_equal(reg->sms_number, "555-1212");
    pb_free(&reg->base);
    Customersapi__CustomerSmsChanged *sms =
        (void *)stream_recorder_payload(&rec, 1, &customersapi__customer_sms_changed__descriptor);
    assert_string_equal(sms->id, "c-1");
    assert_string_equal(sms->sms_number, "555-9999");
    pb_free(&sms->base);
    Customersapi__CustomerDisabled *dis =
        (void *)stream_recorder_payload(&rec, 2, &customersapi__customer_disabled__descriptor);
    assert_string_equal(dis->id, "c-1");
    pb_free(&dis->base);
    Customersapi__CustomerEnabled *en =
        (void *)stream_recorder_payload(&rec, 3, &customersapi__customer_enabled__descriptor);
    assert_string_equal(en->id, "c-1");
    pb_free(&en->base);
    assert_string_equal(customers_fake_customer(&db, "c-1")->sms_number, "555-9999");
}

static void change_sms_rules_publish_nothing(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(customers_app_register_customer(&app, "c-1", "John Smith", "555-1212", &err),
                     CORE_OK);
    assert_int_equal(customers_app_change_sms_number(&app, "c-1", " \t", &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the SMS number cannot be blank");
    assert_int_equal(customers_app_change_sms_number(&app, "c-1", NULL, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the SMS number cannot be blank");
    assert_int_equal(customers_app_change_sms_number(&app, "c-9", "555", &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "customer c-9 not found");
    assert_int_equal(customers_app_change_sms_number(&app, "", "555", &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the customer id cannot be blank");
    am_mem_broker_run(broker, NULL);
    assert_int_equal(rec.n, 1); /* the registration only */
    assert_string_equal(customers_fake_customer(&db, "c-1")->sms_number, "555-1212");
}

static void a_broker_that_is_away_is_a_503_with_the_change_saved(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(customers_app_register_customer(&app, "c-1", "John Smith", "555-1212", &err),
                     CORE_OK);
    am_mem_broker_fail(broker, AM_MEM_FAIL_PUBLISH, 1);
    assert_int_equal(customers_app_change_sms_number(&app, "c-1", "555-2323", &err),
                     CORE_ERR_UNAVAILABLE);
    assert_string_equal(core_err_client_msg(&err),
                        "the change was saved but not published: the message broker is "
                        "unavailable");
    assert_string_equal(customers_fake_customer(&db, "c-1")->sms_number, "555-2323");
    am_mem_broker_run(broker, NULL);
    assert_int_equal(rec.n, 1);
}

static void a_domain_event_without_its_customer_is_refused(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    ddd_event *ev = NULL;
    ProtobufCMessage *payload = pb_new(&customers__domain__customer_enabled__descriptor);
    assert_non_null(payload);
    assert_int_equal(ddd_event_new(&ev, CUSTOMERS_CUSTOMER_ENABLED, &payload, NULL), CORE_OK);
    assert_int_equal(ddd_dispatcher_publish(dispatcher, &ev, 1, &err), CORE_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "has no aggregate id"));
    ddd_event_free(ev);
    am_mem_broker_run(broker, NULL);
    assert_int_equal(rec.n, 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(every_change_is_announced_with_the_domain_events_id),
        T(change_sms_rules_publish_nothing),
        T(a_broker_that_is_away_is_a_503_with_the_change_saved),
        T(a_domain_event_without_its_customer_is_refused),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
