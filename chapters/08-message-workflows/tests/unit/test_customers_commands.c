/* test_customers_commands.c -- unit tests of the customers' part in the create-order saga
 * (chapter 08): customersapi.AuthorizeCustomer consumed in the group customer-commands on the
 * in-memory stream (am.h) and answered by the CommandHandlers (customers/handlers.h), with the
 * fake repository of tests/support/customers_fakes.h. Checked: an enabled customer is am.Success;
 * an unknown, a disabled customer and a blank id are am.Failure with the reason; the same command
 * delivered twice has the same answer and changes nothing; an outage of the repository retries
 * the command instead of answering "no". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "am.h"
#include "customers/application.h"
#include "customers/commands.h"
#include "customers/handlers.h"
#include "customers_fakes.h"
#include "monolith/messages.h"
#include "pb.h"
#include "reply_recorder.h"

static struct customers_fake_repo db;
static struct customers_app app;
static core_status outage; /* when set, find fails with it, as a database that is away */
static ddd_dispatcher *events;
static es_registry *messages;
static am_mem_broker *broker;
static am_stream *stream;
static struct reply_recorder rec;
static long live_before;

static core_status find(void *self, const char *id, struct customers_customer *out, core_err *err)
{
    if (outage)
        return core_err_set(err, outage, "the database is unavailable, try again");
    struct customers_repo fake;
    customers_fake_repo_port(&fake, self);
    return fake.find(self, id, out, err);
}

static int setup(void **state)
{
    (void)state;
    live_before = core_alloc_live();
    memset(&db, 0, sizeof db);
    outage = CORE_OK;
    customers_fake_repo_port(&app.customers, &db);
    app.customers.find = find;
    assert_int_equal(ddd_dispatcher_new(&events, NULL), CORE_OK);
    app.publisher = ddd_dispatcher_publisher(events);
    assert_int_equal(customers_app_register_customer(&app, "c1", "Buyer #1", "555-1212", NULL),
                     CORE_OK);
    assert_int_equal(customers_app_register_customer(&app, "c2", "Buyer #2", "555-1213", NULL),
                     CORE_OK);
    assert_int_equal(customers_app_disable_customer(&app, "c2", NULL), CORE_OK);
    assert_int_equal(es_registry_new(&messages, NULL), CORE_OK);
    assert_int_equal(monolith_register_messages(messages, NULL), CORE_OK);
    assert_int_equal(am_mem_broker_new(&broker, NULL), CORE_OK);
    assert_int_equal(am_mem_stream_new(&stream, broker, "mallbots", NULL), CORE_OK);
    reply_recorder_subscribe(&rec, stream, messages);
    assert_int_equal(customers_subscribe_command_handlers(stream, messages, &app, NULL), CORE_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    reply_recorder_release(&rec);
    am_stream_free(stream);
    am_mem_broker_free(broker);
    es_registry_free(messages);
    ddd_dispatcher_free(events);
    customers_fake_repo_release(&db);
    assert_int_equal(core_alloc_live(), live_before);
    return 0;
}

static void send_authorize(const char *cmd_id, const char *customer_id)
{
    Customersapi__AuthorizeCustomer *m = pb_new_of(customersapi__authorize_customer);
    assert_non_null(m);
    assert_int_equal(pb_set_string(&m->id, customer_id, NULL), CORE_OK);
    reply_recorder_send(stream, CUSTOMERS_COMMAND_CHANNEL, cmd_id, CUSTOMERSAPI_AUTHORIZE_CUSTOMER,
                        &m->base);
}

static void an_enabled_customer_is_authorized(void **state)
{
    (void)state;
    int writes = db.writes;
    send_authorize("cmd-1", "c1");
    am_mem_broker_run(broker, NULL);
    assert_int_equal(rec.n, 1);
    assert_string_equal(rec.names[0], AM_REPLY_SUCCESS);
    assert_true(rec.succeeded[0]);
    assert_string_equal(rec.command_ids[0], "cmd-1");
    assert_string_equal(rec.saga_ids[0], "saga-1");
    assert_int_equal(db.writes, writes); /* authorizing changes nothing */
}

static void broken_rules_are_answered_failure(void **state)
{
    (void)state;
    send_authorize("cmd-1", "c2");
    send_authorize("cmd-2", "nobody");
    send_authorize("cmd-3", " ");
    am_mem_broker_run(broker, NULL);
    assert_int_equal(rec.n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(rec.names[i], AM_REPLY_FAILURE);
        assert_false(rec.succeeded[i]);
    }
    assert_non_null(strstr(rec.errors[0], "customer c2 is not authorized: the customer is "
                                          "disabled"));
    assert_non_null(strstr(rec.errors[1], "customer nobody not found"));
    assert_non_null(strstr(rec.errors[2], "the customer id cannot be blank"));
}

static void a_redelivered_command_has_the_same_answer(void **state)
{
    (void)state;
    send_authorize("cmd-1", "c1");
    am_mem_broker_fail(broker, AM_MEM_FAIL_PUBLISH, 1); /* the reply: the command is NAKed */
    assert_true(am_mem_broker_step(broker));
    assert_int_equal(rec.n, 0);
    am_mem_broker_run(broker, NULL);
    assert_int_equal(rec.n, 1);
    assert_true(rec.succeeded[0]);
    assert_string_equal(rec.command_ids[0], "cmd-1");
}

static void an_outage_retries_the_command(void **state)
{
    (void)state;
    outage = CORE_ERR_UNAVAILABLE;
    send_authorize("cmd-1", "c1");
    assert_true(am_mem_broker_step(broker)); /* delivery 1: NAKed, not answered "no" */
    assert_int_equal(rec.n, 0);
    outage = CORE_OK;
    am_mem_broker_run(broker, NULL);
    assert_int_equal(rec.n, 1);
    assert_true(rec.succeeded[0]);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(an_enabled_customer_is_authorized),
        T(broken_rules_are_answered_failure),
        T(a_redelivered_command_has_the_same_answer),
        T(an_outage_retries_the_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
