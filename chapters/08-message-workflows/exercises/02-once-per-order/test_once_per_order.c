/* test_once_per_order.c -- exercise 08.2: a command handler with its reply, once per order
 * (depot/command_handlers.c: create_list; depot/application.c:
 * depot_app_create_order_shopping_list).
 *
 * The tests are the exercise's to-do list, in the order the README suggests: the command is
 * answered depotapi.CreatedShoppingListReply with the id of the pending list it made; the same
 * command delivered again, or another command for the same order, gets the same answer and makes
 * nothing; a command that lost the race to another delivery's save answers with the saved list; a
 * broken rule is answered am.Failure with the reason, and an outage is retried.
 *
 * depot's application runs for real over the fakes of tests/support/depot_fakes.h (a list store
 * with one list per order, as the table's unique index has it, and stores that know every
 * product); the commands go through the in-memory stream of am.h, and
 * tests/support/reply_recorder.h reads the replies as the saga would. No servers. Every test also
 * checks that it leaked nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "am.h"
#include "ddd.h"
#include "depot/application.h"
#include "depot/commands.h"
#include "depot/handlers.h"
#include "depot_fakes.h"
#include "log.h"
#include "monolith/messages.h"
#include "pb.h"
#include "reply_recorder.h"

struct fixture {
    struct depot_fake_lists lists;
    struct depot_fake_stores stores;
    struct depot_app app;
    ddd_dispatcher *dispatcher; /* the app's publisher */
    int created;                /* depot.ShoppingListCreated events published */
    es_registry *messages;
    am_mem_broker *broker;
    am_stream *stream;
    struct reply_recorder rec;
    long live;
};

static core_status on_created(void *ud, const ddd_event *ev, core_err *err)
{
    (void)ev;
    (void)err;
    ((struct fixture *)ud)->created++;
    return CORE_OK;
}

static int setup(void **state)
{
    struct fixture *fx = test_calloc(1, sizeof *fx);
    fx->live = core_alloc_live();
    depot_fake_lists_port(&fx->app.lists, &fx->lists);
    depot_fake_stores_port(&fx->app.stores, &fx->stores);
    assert_int_equal(ddd_dispatcher_new(&fx->dispatcher, NULL), CORE_OK);
    fx->app.publisher = ddd_dispatcher_publisher(fx->dispatcher);
    assert_int_equal(ddd_dispatcher_subscribe(fx->dispatcher, DEPOT_SHOPPING_LIST_CREATED,
                                              "test.Counter", on_created, fx, NULL),
                     CORE_OK);
    assert_int_equal(es_registry_new(&fx->messages, NULL), CORE_OK);
    assert_int_equal(monolith_register_messages(fx->messages, NULL), CORE_OK);
    assert_int_equal(am_mem_broker_new(&fx->broker, NULL), CORE_OK);
    assert_int_equal(am_mem_stream_new(&fx->stream, fx->broker, "mallbots", NULL), CORE_OK);
    reply_recorder_subscribe(&fx->rec, fx->stream, fx->messages);
    assert_int_equal(depot_subscribe_command_handlers(fx->stream, fx->messages, &fx->app, NULL),
                     CORE_OK);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    reply_recorder_release(&fx->rec);
    am_stream_free(fx->stream);
    am_mem_broker_free(fx->broker);
    es_registry_free(fx->messages);
    depot_fake_lists_release(&fx->lists);
    ddd_dispatcher_free(fx->dispatcher);
    assert_int_equal(core_alloc_live(), fx->live); /* leak check */
    test_free(fx);
    return 0;
}

/* Sends a CreateShoppingListCommand for order_id under message id cmd_id: 2 x p1 of store s1,
 * 1 x p3 of store s2 (nitems 0: no items at all). */
static void send_create(struct fixture *fx, const char *cmd_id, const char *order_id, size_t nitems)
{
    static const char *const stores[] = {"s1", "s2"}, *const products[] = {"p1", "p3"};
    static const int qty[] = {2, 1};
    Depotapi__CreateShoppingList *m = pb_new_of(depotapi__create_shopping_list);
    assert_non_null(m);
    assert_int_equal(pb_set_string(&m->order_id, order_id, NULL), CORE_OK);
    if (nitems) {
        m->items = core_calloc(nitems, sizeof *m->items);
        assert_non_null(m->items);
    }
    for (size_t i = 0; i < nitems; i++) {
        Depotapi__CreateShoppingList__Item *it = pb_new_of(depotapi__create_shopping_list__item);
        assert_non_null(it);
        m->items[m->n_items++] = it;
        assert_int_equal(pb_set_string(&it->store_id, stores[i], NULL), CORE_OK);
        assert_int_equal(pb_set_string(&it->product_id, products[i], NULL), CORE_OK);
        it->quantity = qty[i];
    }
    reply_recorder_send(fx->stream, DEPOT_COMMAND_CHANNEL, cmd_id,
                        DEPOTAPI_CREATE_SHOPPING_LIST_COMMAND, &m->base);
}

/* The list id that reply i names; fails the test unless it is a successful
 * depotapi.CreatedShoppingListReply answering command cmd_id. */
static void reply_list_id(struct fixture *fx, size_t i, const char *cmd_id,
                          char out[DEPOT_ID_MAX + 1])
{
    assert_true(i < fx->rec.n);
    if (strcmp(fx->rec.names[i], DEPOTAPI_CREATED_SHOPPING_LIST_REPLY) != 0)
        fail_msg("reply %zu is %s (%s), not %s", i + 1, fx->rec.names[i], fx->rec.errors[i],
                 DEPOTAPI_CREATED_SHOPPING_LIST_REPLY);
    assert_true(fx->rec.succeeded[i]);
    assert_string_equal(fx->rec.command_ids[i], cmd_id);
    Depotapi__CreatedShoppingList *m =
        (void *)reply_recorder_payload(&fx->rec, i, &depotapi__created_shopping_list__descriptor);
    core_strlcpy(out, m->id, DEPOT_ID_MAX + 1);
    pb_free(&m->base);
}

/* 1. The command makes the order's pending list and answers with its id. */
static void the_command_is_answered_with_the_list(void **state)
{
    struct fixture *fx = *state;
    char id[DEPOT_ID_MAX + 1];
    send_create(fx, "cmd-1", "o1", 2);
    am_mem_broker_run(fx->broker, NULL);
    assert_int_equal(fx->rec.n, 1);
    reply_list_id(fx, 0, "cmd-1", id);
    const struct depot_shopping_list *row = depot_fake_list(&fx->lists, id);
    assert_non_null(row); /* the id answered is the id stored */
    assert_string_equal(row->order_id, "o1");
    assert_int_equal(row->status, DEPOT_LIST_PENDING);
    assert_int_equal(row->nstops, 2); /* one stop per store */
    assert_int_equal(fx->created, 1);
}

/* 2. The same command again, and another command for the same order: one list, one answer. */
static void the_order_gets_one_list_however_often_it_asks(void **state)
{
    struct fixture *fx = *state;
    char first[DEPOT_ID_MAX + 1], other[DEPOT_ID_MAX + 1];
    send_create(fx, "cmd-1", "o1", 2);
    am_mem_broker_fail(fx->broker, AM_MEM_FAIL_ACK, 1); /* its ack is lost: it comes again */
    am_mem_broker_run(fx->broker, NULL);
    am_mem_broker_expire(fx->broker);
    am_mem_broker_run(fx->broker, NULL);
    send_create(fx, "cmd-2", "o1", 2); /* the saga asked again, under a new id */
    am_mem_broker_run(fx->broker, NULL);

    assert_int_equal(fx->rec.n, 2); /* the redelivery's reply had the same id: stored once */
    reply_list_id(fx, 0, "cmd-1", first);
    reply_list_id(fx, 1, "cmd-2", other);
    assert_string_equal(other, first);
    assert_int_equal(fx->lists.n, 1);
    assert_int_equal(fx->lists.saves, 1);
    assert_int_equal(fx->created, 1); /* announced once */
}

/* 3. A command that looked before another delivery saved, and then lost the race at its own
 * save, answers with the list that won. */
static void a_command_that_loses_the_race_answers_the_winner(void **state)
{
    struct fixture *fx = *state;
    char first[DEPOT_ID_MAX + 1], second[DEPOT_ID_MAX + 1];
    send_create(fx, "cmd-1", "o1", 2);
    am_mem_broker_run(fx->broker, NULL);
    fx->lists.hide_by_order = 1; /* the next lookup misses the list saved already */
    send_create(fx, "cmd-2", "o1", 2);
    am_mem_broker_run(fx->broker, NULL);

    assert_int_equal(fx->rec.n, 2);
    reply_list_id(fx, 0, "cmd-1", first);
    reply_list_id(fx, 1, "cmd-2", second);
    assert_string_equal(second, first);
    assert_int_equal(fx->lists.n, 1);
    assert_int_equal(fx->created, 1); /* the loser's list was never stored: nothing announced */
}

/* 4. A broken rule is a "no" with the reason; an outage is "not now". */
static void a_no_and_a_not_now(void **state)
{
    struct fixture *fx = *state;
    send_create(fx, "cmd-1", "o1", 0); /* no items */
    am_mem_broker_run(fx->broker, NULL);
    assert_int_equal(fx->rec.n, 1);
    assert_string_equal(fx->rec.names[0], AM_REPLY_FAILURE);
    assert_false(fx->rec.succeeded[0]);
    assert_non_null(strstr(fx->rec.errors[0], "o1")); /* which order */
    assert_int_equal(fx->lists.n, 0);

    fx->lists.fail_find_by_order = CORE_ERR_UNAVAILABLE; /* the database is away */
    log_init(LOG_LEVEL_ERROR);                           /* the retry is logged: expected */
    send_create(fx, "cmd-2", "o2", 2);
    assert_true(am_mem_broker_step(fx->broker));
    log_init(LOG_LEVEL_WARN);
    assert_int_equal(fx->rec.n, 1); /* no answer yet: the command will come again */
    assert_true(am_mem_broker_last_nak_delay(fx->broker) > 0);
    fx->lists.fail_find_by_order = CORE_OK; /* back */
    am_mem_broker_run(fx->broker, NULL);
    char id[DEPOT_ID_MAX + 1];
    assert_int_equal(fx->rec.n, 2);
    reply_list_id(fx, 1, "cmd-2", id);
}

int main(void)
{
    log_init(LOG_LEVEL_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(the_command_is_answered_with_the_list, setup, teardown),
        cmocka_unit_test_setup_teardown(the_order_gets_one_list_however_often_it_asks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_command_that_loses_the_race_answers_the_winner, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_no_and_a_not_now, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
