#!/usr/bin/env bash
# tools/search-plans.sh -- loads 100,000 synthetic orders into the search module's read model and
# prints the query plan PostgreSQL chooses for each filter of POST /api/search/orders, with the
# time it took (EXPLAIN ANALYZE). Chapter 07's README shows the output.
#
# Usage (from the repository root, the lab running):
#   make tree CH=07 && build/ch07/src/tools/search-plans.sh [orders]
#
# It works in a database of its own, search_plans (dropped and made again on each run, through the
# lab's PG_CONN: scripts/lab.sh env), with the chapter's migrations 001 (shared trigger functions)
# and 010 (schema search) applied, so nothing of a program's database is touched.
#
# The data: orders over one year (one every ~5 minutes), 5,000 customers, 50 stores of 20
# products each (1,000 products), 1-4 items an order (and one more product, prod-rare, in 30
# orders), totals 1-500, statuses: the newest 10% New, Ready For Pickup or Canceled, the others
# 90% Completed and 10% Canceled.
#
# The queries are the texts search/postgres.c builds (one $n a filter, newest first, LIMIT the page
# size + 1), run as prepared statements the way pg_exec() runs them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
n=${1:-100000}
eval "$("$repo/scripts/lab.sh" env)"
admin=$PG_CONN
db="${PG_CONN/dbname=mallbots/dbname=search_plans}"
PGOPTIONS='-c client_min_messages=warning' psql "$admin" -qX -v ON_ERROR_STOP=1 -c 'DROP DATABASE IF EXISTS search_plans' \
    -c 'CREATE DATABASE search_plans' > /dev/null
psql "$db" -qX -v ON_ERROR_STOP=1 -f "$here/../migrations/001_common.sql" \
    -f "$here/../migrations/011_search.sql" > /dev/null

echo "loading $n orders ..."
start=$(date +%s)
psql "$db" -qX -v ON_ERROR_STOP=1 -v n="$n" <<'SQL'
INSERT INTO search.orders (order_id, customer_id, customer_name, total, status, product_ids,
                           store_ids, created_at)
SELECT format('%s-0000-4000-8000-%s', lpad(to_hex(i), 8, '0'), lpad(to_hex(i * 7919), 12, '0')),
       'cust-' || (i * 37 % 5000), 'Customer ' || (i * 37 % 5000),
       1 + (i * 7907 % 49900) / 100.0,
       CASE WHEN i > :n * 0.9 THEN (ARRAY['New', 'Ready For Pickup', 'Canceled'])[i % 3 + 1]
            WHEN i % 10 = 3 THEN 'Canceled' ELSE 'Completed' END,
       (SELECT array_agg('prod-' || ((i * 13 + k * 389) % 1000)) FROM generate_series(0, i % 4) k)
         || CASE WHEN i % 3333 = 0 THEN ARRAY['prod-rare'] ELSE '{}' END,
       (SELECT array_agg(DISTINCT 'store-' || ((i * 13 + k * 389) % 1000 / 20))
          FROM generate_series(0, i % 4) k),
       TIMESTAMPTZ '2026-01-01T00:00:00Z' + (i * INTERVAL '315 seconds')
FROM generate_series(1, :n) i;
INSERT INTO search.order_items (order_id, position, product_id, store_id, product_name,
                                store_name, price, quantity)
SELECT o.order_id, k - 1, p, s, 'Product ' || p, 'Store ' || s, 1.5, 1
FROM search.orders o, unnest(o.product_ids) WITH ORDINALITY AS u(p, k),
     LATERAL (SELECT CASE WHEN p = 'prod-rare' THEN 'store-0'
                          ELSE 'store-' || (substr(p, 6)::int / 20) END) AS st(s);
VACUUM ANALYZE search.orders;
VACUUM ANALYZE search.order_items;
SQL
echo "loaded in $(($(date +%s) - start)) s: $(psql "$db" -qtAX -c 'SELECT count(*) FROM search.orders') orders," \
    "$(psql "$db" -qtAX -c 'SELECT count(*) FROM search.order_items') items"

cols="order_id, customer_id, customer_name, total, status, (extract(epoch FROM created_at) * 1000000)::bigint"
base="SELECT $cols FROM search.orders WHERE created_at IS NOT NULL"
tail=" ORDER BY created_at DESC, order_id DESC"
us() { psql "$db" -qtAX -c "SELECT (extract(epoch FROM TIMESTAMPTZ '$1') * 1000000)::bigint"; }
ts() { echo "(TIMESTAMPTZ 'epoch' + \$$1::bigint * INTERVAL '1 microsecond')"; }
# a page boundary halfway down: the order in the middle of the table
mid_id=$(psql "$db" -qtAX -c "SELECT order_id FROM search.orders ORDER BY created_at DESC, order_id DESC OFFSET $((n / 2)) LIMIT 1")
mid_us=$(psql "$db" -qtAX -c "SELECT (extract(epoch FROM created_at) * 1000000)::bigint FROM search.orders WHERE order_id = '$mid_id'")

plan() { # title, types, sql, args
    echo
    echo "### $1"
    echo
    psql "$db" -qtAX -v ON_ERROR_STOP=1 <<SQL |
PREPARE q($2) AS $3;
EXPLAIN (ANALYZE, COSTS OFF) EXECUTE q($4);
SQL
        awk 'NF { if (length($0) > 112) $0 = substr($0, 1, 109) "..."; print "    " $0 }'
}
plan "no filter (first page of 20)" "int" "$base$tail LIMIT \$1::int" "21"
plan "no filter, a page from a token halfway down" "bigint, text, int" \
    "$base AND (created_at, order_id) < ($(ts 1), \$2)$tail LIMIT \$3::int" "$mid_us, '$mid_id', 21"
plan "customerId (20 orders)" "text, int" "$base AND customer_id = \$1$tail LIMIT \$2::int" "'cust-42', 21"
plan "after (the last week)" "bigint, int" "$base AND created_at > $(ts 1)$tail LIMIT \$2::int" \
    "$(us '2026-12-24T00:00:00Z'), 21"
plan "before (the first week)" "bigint, int" "$base AND created_at < $(ts 1)$tail LIMIT \$2::int" \
    "$(us '2026-01-08T00:00:00Z'), 21"
plan "after and before (one day in the middle)" "bigint, bigint, int" \
    "$base AND created_at > $(ts 1) AND created_at < $(ts 2)$tail LIMIT \$3::int" \
    "$(us '2026-07-01T00:00:00Z'), $(us '2026-07-02T00:00:00Z'), 21"
plan "storeIds (one store of 50)" "text, int" "$base AND store_ids && \$1::text[]$tail LIMIT \$2::int" \
    "'{store-7}', 21"
plan "productIds (two products of 1,000)" "text, int" \
    "$base AND product_ids && \$1::text[]$tail LIMIT \$2::int" "'{prod-17,prod-555}', 21"
plan "productIds (a product in 30 orders)" "text, int" \
    "$base AND product_ids && \$1::text[]$tail LIMIT \$2::int" "'{prod-rare}', 21"
plan "minTotal (the dearest 1%)" "text, int" "$base AND total >= \$1::numeric$tail LIMIT \$2::int" \
    "'495', 21"
plan "maxTotal (the cheapest 1%)" "text, int" "$base AND total <= \$1::numeric$tail LIMIT \$2::int" \
    "'6', 21"
plan "minTotal and maxTotal (a band of 40%)" "text, text, int" \
    "$base AND total >= \$1::numeric AND total <= \$2::numeric$tail LIMIT \$3::int" "'100', '300', 21"
plan "status (Ready For Pickup, 3%)" "text, int" "$base AND status = \$1$tail LIMIT \$2::int" \
    "'Ready For Pickup', 21"
plan "status (Completed, 70%)" "text, int" "$base AND status = \$1$tail LIMIT \$2::int" \
    "'Completed', 21"
plan "customerId + status + after (combined)" "text, text, bigint, int" \
    "$base AND customer_id = \$1 AND created_at > $(ts 3) AND status = \$2$tail LIMIT \$4::int" \
    "'cust-42', 'Completed', $(us '2026-03-01T00:00:00Z'), 21"
plan "the items of a page (21 orders)" "text" \
    "SELECT order_id, product_id, store_id, product_name, store_name, price, quantity FROM search.order_items WHERE order_id = ANY(\$1::text[]) ORDER BY order_id, position" \
    "'$(psql "$db" -qtAX -c "SELECT array_agg(order_id)::text FROM (SELECT order_id FROM search.orders ORDER BY created_at DESC LIMIT 21) x")'"
psql "$admin" -qX -c 'DROP DATABASE IF EXISTS search_plans' > /dev/null
