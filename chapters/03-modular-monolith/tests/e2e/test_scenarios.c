/* test_scenarios.c -- end to end: the acceptance scenarios of the book's BDD features (the book's
 * chapter 10 on).
 *
 * The reference ships them as Gherkin (testing/e2e/features/, chapters 10-12); here each scenario
 * is one test whose Given / When / Then are marked in comments. One mallbots process on a fresh
 * database for the file; the last test expects a clean shutdown.
 *
 * "no store called Waldorf Books exists": a fresh chapter-03 database is seeded with exactly that
 * store (migrations/seed.sql, as the book's docker/database/8_load_data.sh). To make the Given
 * true rather than skip it, the scenario deletes the seeded store and its product with SQL first;
 * the Then is then "exactly one store of that name, the new one", which a check by id alone could
 * not tell apart from the seed row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "e2e.h"

#define SEED_STORE "bd9e26cd-d861-4b74-862f-06e0825c7af3"

static e2e_app *app;

/* Given a registered customer (John Smith's scenario registers its own). */
static void registered_customer(const char *name, char customer_id[E2E_ID_MAX])
{
    e2e_expect_id(app, "POST", "/api/customers",
                  E2E_F("{\"name\":\"%s\",\"smsNumber\":\"555-0123\"}", name), customer_id);
}

/* Feature: Creating stores. Scenario: Creating a store called "Waldorf Books". */
static void creating_a_store(void **state)
{
    (void)state;
    char store_id[E2E_ID_MAX];
    /* Given a valid store owner (there is no owner check in chapter 03)
     * And no store called "Waldorf Books" exists */
    e2e_expect_sql(app, SEED_STORE, "select id from stores.stores where name = $1",
                   "Waldorf Books");
    core_err err = CORE_ERR_INIT;
    assert_int_equal(e2e_sql_exec(app, "delete from stores.products where store_id = $1", 1,
                                  (const char *const[]){SEED_STORE}, &err),
                     CORE_OK);
    assert_int_equal(e2e_sql_exec(app, "delete from stores.stores where id = $1", 1,
                                  (const char *const[]){SEED_STORE}, &err),
                     CORE_OK);
    e2e_expect_error_like(app, "GET", "/api/stores/" SEED_STORE, NULL, 404, "not found");
    e2e_expect_sql(app, "0", "select count(*) from stores.stores where name = $1", "Waldorf Books");

    /* When I create the store called "Waldorf Books" */
    e2e_expect_id(app, "POST", "/api/stores",
                  "{\"name\":\"Waldorf Books\",\"location\":\"West Upper Level\"}", store_id);

    /* Then the store is created (and it is the one of that name) */
    assert_string_not_equal(store_id, SEED_STORE);
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/stores/%s", store_id), NULL);
    e2e_expect_json_str(j, "store.id", store_id);
    e2e_expect_json_str(j, "store.name", "Waldorf Books");
    json_decref(j);
    j = e2e_expect_ok(app, "GET", "/api/stores", NULL);
    size_t i, named = 0;
    json_t *s;
    json_array_foreach(json_object_get(j, "stores"), i, s)
    {
        const char *name = json_string_value(json_object_get(s, "name"));
        if (name && strcmp(name, "Waldorf Books") == 0)
            named++;
    }
    json_decref(j);
    assert_int_equal(named, 1);
    e2e_expect_sql(app, store_id, "select id from stores.stores where name = $1", "Waldorf Books");
}

/* Feature: Creating stores. Scenario: Cannot create stores without a name. */
static void cannot_create_a_store_without_a_name(void **state)
{
    (void)state;
    long long stores = e2e_sql_long(app, "select count(*) from stores.stores", 0, NULL);
    /* When I create a store called "" -- Then I receive a "the store name cannot be blank" error */
    e2e_expect_error(app, "POST", "/api/stores", "{\"name\":\"\",\"location\":\"Anywhere\"}", 400,
                     "the store name cannot be blank");
    assert_int_equal(e2e_sql_long(app, "select count(*) from stores.stores", 0, NULL), stores);
}

/* Feature: Creating products. Scenario: Creating a product called "Wizard w/ crystal". */
static void creating_a_product(void **state)
{
    (void)state;
    char store_id[E2E_ID_MAX], product_id[E2E_ID_MAX];
    /* Background: Given the store "Nic & Naks" already exists */
    e2e_expect_id(app, "POST", "/api/stores",
                  "{\"name\":\"Nic & Naks\",\"location\":\"Lower Level\"}", store_id);
    /* When I create the product called "Wizard w/ crystal" with price "9.98" */
    e2e_expect_id(app, "POST", E2E_F("/api/stores/%s/products", store_id),
                  "{\"name\":\"Wizard w/ crystal\",\"description\":\"a wizard\","
                  "\"sku\":\"WIZ-1\",\"price\":9.98}",
                  product_id);
    /* Then I expect the product was created */
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/stores/products/%s", product_id), NULL);
    e2e_expect_json_str(j, "product.storeId", store_id);
    e2e_expect_json_str(j, "product.name", "Wizard w/ crystal");
    e2e_expect_json_num(j, "product.price", 9.98);
    json_decref(j);
    j = e2e_expect_ok(app, "GET", E2E_F("/api/stores/%s/products", store_id), NULL);
    assert_int_equal(e2e_json_len(j, "products"), 1);
    e2e_expect_json_str(j, "products.0.name", "Wizard w/ crystal");
    json_decref(j);
    e2e_expect_sql(app, "9.9800", "select price::text from stores.products where id = $1",
                   product_id);
}

/* Feature: Register Customer. Scenario: Registering a new customer. */
static void registering_a_customer(void **state)
{
    (void)state;
    char customer_id[E2E_ID_MAX];
    /* Given no customer named "John Smith" exists */
    e2e_expect_sql(app, "0", "select count(*) from customers.customers where name = $1",
                   "John Smith");
    /* When I register a new customer as "John Smith" */
    registered_customer("John Smith", customer_id);
    /* Then I expect the customer is created */
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/customers/%s", customer_id), NULL);
    e2e_expect_json_str(j, "customer.id", customer_id);
    e2e_expect_json_str(j, "customer.name", "John Smith");
    e2e_expect_json_str(j, "customer.smsNumber", "555-0123");
    assert_true(json_is_true(e2e_json_at(j, "customer.enabled")));
    json_decref(j);
    e2e_expect_sql(app, customer_id, "select id from customers.customers where name = $1",
                   "John Smith");
}

/* Feature: Starting baskets. Scenario: Create a basket. */
static void starting_a_basket(void **state)
{
    (void)state;
    char customer_id[E2E_ID_MAX], basket_id[E2E_ID_MAX];
    /* Given I am a registered customer */
    registered_customer("Basket Starter", customer_id);
    /* When I start a new basket */
    e2e_expect_id(app, "POST", "/api/baskets", E2E_F("{\"customerId\":\"%s\"}", customer_id),
                  basket_id);
    /* Then I expect the basket was started */
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/baskets/%s", basket_id), NULL);
    e2e_expect_json_str(j, "basket.id", basket_id);
    assert_int_equal(e2e_json_len(j, "basket.items"), 0);
    json_decref(j);
    e2e_expect_sql(app, "open", "select status from baskets.baskets where id = $1", basket_id);
    e2e_expect_sql(app, customer_id, "select customer_id from baskets.baskets where id = $1",
                   basket_id);
}

/* Feature: Adding items. Scenario: Adding items. */
static void adding_items(void **state)
{
    (void)state;
    char customer_id[E2E_ID_MAX], basket_id[E2E_ID_MAX], store_id[E2E_ID_MAX],
        product_id[E2E_ID_MAX];
    /* Background: Given I am a registered customer And I start a new basket */
    registered_customer("Item Adder", customer_id);
    e2e_expect_id(app, "POST", "/api/baskets", E2E_F("{\"customerId\":\"%s\"}", customer_id),
                  basket_id);
    /* Given a store has the following items: Wizard w/ crystal, 9.99 */
    e2e_expect_id(app, "POST", "/api/stores",
                  "{\"name\":\"Crystal Caves\",\"location\":\"Upper Level\"}", store_id);
    e2e_expect_id(
        app, "POST", E2E_F("/api/stores/%s/products", store_id),
        "{\"name\":\"Wizard w/ crystal\",\"description\":\"\",\"sku\":\"WIZ-2\",\"price\":9.99}",
        product_id);
    /* When I add the items: Wizard w/ crystal, 10 */
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket_id),
                              E2E_F("{\"productId\":\"%s\",\"quantity\":10}", product_id)));
    /* Then the items are added */
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/baskets/%s", basket_id), NULL);
    assert_int_equal(e2e_json_len(j, "basket.items"), 1);
    e2e_expect_json_str(j, "basket.items.0.storeId", store_id);
    e2e_expect_json_str(j, "basket.items.0.storeName", "Crystal Caves");
    e2e_expect_json_str(j, "basket.items.0.productId", product_id);
    e2e_expect_json_str(j, "basket.items.0.productName", "Wizard w/ crystal");
    e2e_expect_json_num(j, "basket.items.0.productPrice", 9.99);
    e2e_expect_json_num(j, "basket.items.0.quantity", 10);
    json_decref(j);
}

/* Feature: Adding items. Scenario: Cannot add items that do not exist. */
static void cannot_add_items_that_do_not_exist(void **state)
{
    (void)state;
    char customer_id[E2E_ID_MAX], basket_id[E2E_ID_MAX];
    registered_customer("Hopeful Shopper", customer_id);
    e2e_expect_id(app, "POST", "/api/baskets", E2E_F("{\"customerId\":\"%s\"}", customer_id),
                  basket_id);
    /* When I add the items: a product nobody created, 10
     * Then I receive a clear not-found error (the book: "product fallback failed: product was not
     * located") naming the product */
    e2e_expect_error_like(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket_id),
                          "{\"productId\":\"wizard-w-crystal\",\"quantity\":10}", 404,
                          "wizard-w-crystal");
    e2e_expect_error_like(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket_id),
                          "{\"productId\":\"wizard-w-crystal\",\"quantity\":10}", 404, "not found");
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/baskets/%s", basket_id), NULL);
    assert_int_equal(e2e_json_len(j, "basket.items"), 0);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(creating_a_store),
        cmocka_unit_test(cannot_create_a_store_without_a_name),
        cmocka_unit_test(creating_a_product),
        cmocka_unit_test(registering_a_customer),
        cmocka_unit_test(starting_a_basket),
        cmocka_unit_test(adding_items),
        cmocka_unit_test(cannot_add_items_that_do_not_exist),
        cmocka_unit_test(e2e_shuts_down_cleanly),
    };
    return e2e_run_group("scenarios", &app, tests);
}
