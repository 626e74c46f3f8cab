#!/usr/bin/env bash
# order-walk.sh [API] -- walks one whole order through a running MallBots' REST API, as the
# chapter READMEs do with curl: a store and a product, a customer, a basket with an item, a
# payment, the checkout, then the order followed to "completed" through the depot (the bot shops)
# and payments (the invoice is paid).
#
#   API   the program's base URL (default http://127.0.0.1:8080): make run, make docker-up
#
# Every answer is checked (HTTP status, and the order's status at each step); an order's status
# is polled (at most ORDER_WAIT_S seconds, default 20) so chapters that move it asynchronously
# walk too. Prints one line a step and, at the end, "order-walk: completed order <id>"; exits 1
# naming the step that went wrong. Needs only bash and curl.
set -euo pipefail
API=${1:-http://127.0.0.1:8080}
API=${API%/}
WAIT=${ORDER_WAIT_S:-20}
RUN=$$-$RANDOM

say() { printf 'order-walk: %s\n' "$*"; }
fail() {
    printf 'order-walk: FAILED: %s\n' "$*" >&2
    exit 1
}

# call METHOD PATH [JSON]: the answer's body in BODY; fails unless the status is 200.
BODY=""
call() {
    local method=$1 path=$2 data=${3:-} out status
    local args=(-sS --max-time 10 -X "$method" -w '\n%{http_code}')
    [[ -n $data ]] && args+=(-H 'Content-Type: application/json' -d "$data")
    out=$(curl "${args[@]}" "$API$path") || fail "$method $path: no answer from $API"
    status=${out##*$'\n'}
    BODY=${out%$'\n'*}
    [[ $status == 200 ]] || fail "$method $path answered $status: $BODY"
}
# field NAME: the first string field NAME of BODY (the API's JSON is compact and flat enough).
field() { sed -n 's/.*"'"$1"'":"\([^"]*\)".*/\1/p' <<< "$BODY" | head -n 1; }
id_of() {
    local id
    id=$(field id)
    [[ -n $id ]] || fail "no id in: $BODY"
    printf '%s' "$id"
}

# get_order: the order's answer in BODY; returns 1 while the order does not exist (404: from
# chapter 08 on it is made from the checkout's message, after the checkout answered, and from
# chapter 09 that message leaves through an outbox), fails on any other error.
get_order() {
    local out status
    out=$(curl -sS --max-time 10 -w '\n%{http_code}' "$API/api/ordering/$ORDER") ||
        fail "GET /api/ordering/$ORDER: no answer from $API"
    status=${out##*$'\n'}
    BODY=${out%$'\n'*}
    [[ $status == 404 ]] && return 1
    [[ $status == 200 ]] || fail "GET /api/ordering/$ORDER answered $status: $BODY"
}

# until_order STATUSES FIELD: polls the order until its status is one of STATUSES (a space-separated
# list) and FIELD is set.
until_order() {
    local want=$1 need=$2 i
    for ((i = 0; i < WAIT * 5; i++)); do
        if get_order && [[ " $want " == *" $(field status) "* && -n $(field "$need") ]]; then
            return 0
        fi
        sleep 0.2
    done
    fail "order $ORDER is not ${want// / or } with a $need after ${WAIT}s: $BODY"
}

call POST /api/stores "{\"name\":\"Walk Store $RUN\",\"location\":\"Upper Level\"}"
STORE=$(id_of)
call PUT "/api/stores/$STORE/participating"
call POST "/api/stores/$STORE/products" \
    "{\"name\":\"Wizard w/ crystal\",\"description\":\"a wizard\",\"sku\":\"WALK-$RUN\",\"price\":12.5}"
PRODUCT=$(id_of)
say "store $STORE with product $PRODUCT (12.50)"
call POST /api/customers "{\"name\":\"Walk Customer $RUN\",\"smsNumber\":\"555-0100\"}"
CUSTOMER=$(id_of)
call POST /api/baskets "{\"customerId\":\"$CUSTOMER\"}"
BASKET=$(id_of)
call PUT "/api/baskets/$BASKET/addItem" "{\"productId\":\"$PRODUCT\",\"quantity\":2}"
call GET "/api/baskets/$BASKET"
[[ $BODY == *"\"productId\":\"$PRODUCT\""* ]] || fail "basket $BASKET does not hold product $PRODUCT: $BODY"
say "customer $CUSTOMER, basket $BASKET with 2 x $PRODUCT"
call POST /api/payments "{\"customerId\":\"$CUSTOMER\",\"amount\":25}"
PAYMENT=$(id_of)
call PUT "/api/baskets/$BASKET/checkout" "{\"paymentId\":\"$PAYMENT\"}"
ORDER=$BASKET # the order made from a basket has the basket's id
# up to chapter 07 the checkout makes the list and the order stays pending; from chapter 08 the
# create-order saga makes the list and approves the order
until_order "pending approved" shoppingId
LIST=$(field shoppingId)
say "checked out with payment $PAYMENT: order $ORDER $(field status), shopping list $LIST"
call PUT "/api/depot/shopping/$LIST/assign" '{"botId":"bot-1"}'
call PUT "/api/depot/shopping/$LIST/complete"
until_order ready invoiceId
INVOICE=$(field invoiceId)
say "the bot shopped: order ready, invoice $INVOICE"
call PUT "/api/payments/invoices/$INVOICE/pay"
until_order completed invoiceId
say "completed order $ORDER (invoice $INVOICE paid)"
