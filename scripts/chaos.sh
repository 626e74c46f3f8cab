#!/usr/bin/env bash
# chaos.sh [--san] [NN] [options] -- crash safety, shown: drives orders through chapter NN's
# program (default 09) while it crashes and restarts the servers and the program, then checks that
# no effect was lost or duplicated. Called by `make chaos` (after `make chNN` and the build of the
# load generator) and by tests/scripts/test_chaos.sh (small, with --san). docs/bench.md, "Chaos".
#
# Options (defaults in brackets; sized to finish in a few minutes on a 2-core machine):
#   --orders N         orders to place [2000]            --clients C   concurrent clients [4]
#   --nats-kills K     kill -9 of nats-server, restarted after --down S [3]
#   --pg-restarts P    PostgreSQL stopped (pg_ctl -m immediate: a crash; the start recovers from
#                      the WAL; -m fast on a lab started with LAB_FAST=1, whose commits a crash
#                      may lose) and started again [1]
#   --program-kills Q  kill -9 of the program, started again on the same database [2]
#   --down S           seconds a killed nats-server stays down [1]
#   --wait S           after the orders, the longest wait for every accepted order to be approved
#                      and every outbox row published [120]
#   --keep             keep the scratch database (chaos_chNN_<pid>) for a look with psql
# Environment: CHAOS_LOG_LEVEL (the program's LOG_LEVEL, default DEBUG: the relay's duplicate
# counts are DEBUG lines), CHAOS_NOTIFY_SQL (see "notifications" below), WEB_PORT/RPC_PORT (else
# two free ports), the lab's variables (LAB_PG_PORT, ...).
#
# Steps, each bounded:
#   1. starts the lab if it is not running (durable, as `make lab-up`; it stays running),
#      refuses to go on while another MallBots program is connected to the lab's nats-server (a
#      `make run`: it would share the run's consumer groups and its servers' crashes), and
#      creates the scratch database chaos_chNN_<pid>;
#   2. starts the program on it (log: build/chaos/chNN.app.log, appended over restarts), and the
#      load generator (build/bench/bench --chaos --ids): N orders (basket, two items, payment,
#      checkout) with C clients; a request without an answer (or outside 2xx) abandons its order
#      and the client pauses 0.25 s; orders are placed until N were accepted (at most 3 N + 1000
#      tried); a checkout answered 2xx is "accepted" and its id written down at once;
#   3. spreads the K + P + Q events evenly over the orders (the k-th when k/(E+1) of them are
#      accepted, or 120 s later at the latest; those still due when the last order is placed happen
#      right after it, while the flow finishes): each is a crash and a restart
#      (scripts/lab.sh kill-nats / restart-nats / restart-pg; kill -9 of the program and a
#      start); a program that exits by itself is started again and reported;
#   4. after the last order, waits (--wait) until every accepted order is approved, its saga done,
#      and no outbox row is unpublished, then checks, for the accepted orders only:
#        approved        every accepted order has ordering.OrderApproved (else: lost)
#        shopping lists  exactly one depot.shopping_lists row per order
#        payments        the payment confirmed once: the order's create-order saga is done and
#                        not compensating, one saga per order (ConfirmPayment writes nothing in
#                        payments, so the saga's record is what says it happened; a ConfirmPayment
#                        row count of payments.inbox is shown when there is one)
#        invoices        one payments.invoices row per order that got ready (the chaos orders are
#                        not shopped, so usually none gets ready: then the check says so)
#        outbox          no row of any <schema>.outbox left with published_at null
#        notifications   each accepted order's OrderCreated notification sent exactly once, and no
#                        notification sent twice: from the program's log lines "sending SMS
#                        notification=KIND order_id=ID" (before chapter 09's table
#                        notifications.sent, which is used when it exists), or, with CHAOS_NOTIFY_SQL, from a query
#                        on the program's database that returns one row (kind, order_id) per
#                        notification sent (e.g. "select kind, order_id from notifications.sent")
#      and prints what was absorbed: messages the inboxes dropped as handled before (log lines
#      "was handled before", per schema), inbox rows, and the relay's duplicates (DEBUG lines
#      "published n of m rows (d duplicates)": rows published again that the stream's
#      Nats-Msg-Id dedup dropped);
#   5. stops the program, drops the database (unless --keep).
# Exit status: 0 when every check passed, 1 when one failed (the report says which), 2 usage.
set -uo pipefail
cd "$(dirname "$0")/.."

san=0
if [[ ${1:-} == --san ]]; then
    san=1
    shift
fi
nn=09
if [[ ${1:-} =~ ^(ch)?[0-9]{1,2}$ ]]; then
    nn=${1#ch}
    nn=$(printf '%02d' "$((10#$nn))")
    shift
fi
orders=2000 clients=4 nats_kills=3 pg_restarts=1 program_kills=2 down_s=1 wait_s=120 keep=0
usage() {
    sed -n '2,50p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
num() { [[ ${2:-} =~ ^[0-9]+$ ]] || {
    echo "chaos: $1 needs a number, not '${2:-}'" >&2
    exit 2
}; }
while (($#)); do
    case $1 in
        --orders) num "$1" "${2:-}"; orders=$2; shift 2 ;;
        --clients) num "$1" "${2:-}"; clients=$2; shift 2 ;;
        --nats-kills) num "$1" "${2:-}"; nats_kills=$2; shift 2 ;;
        --pg-restarts) num "$1" "${2:-}"; pg_restarts=$2; shift 2 ;;
        --program-kills) num "$1" "${2:-}"; program_kills=$2; shift 2 ;;
        --down) num "$1" "${2:-}"; down_s=$2; shift 2 ;;
        --wait) num "$1" "${2:-}"; wait_s=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h | --help) usage ;;
        *) echo "chaos: unknown option '$1' (scripts/chaos.sh --help)" >&2; exit 2 ;;
    esac
done
((orders > 0 && clients > 0)) || { echo "chaos: --orders and --clients must be at least 1" >&2; exit 2; }

if ((san)); then
    bin=build/san/ch$nn/mallbots tool=build/san/bench/bench out=build/san/chaos
else
    bin=build/ch$nn/mallbots tool=build/bench/bench out=build/chaos
fi
die() {
    echo "chaos: $*" >&2
    exit 1
}
say() { echo "chaos: $*" >&2; }
[[ -x $bin ]] || die "$bin not found; build it first: make ch$nn"
[[ -x $tool ]] || die "$tool not found; build it first: make -f mk/bench.mk"
mkdir -p "$out"

if ! scripts/lab.sh status > /dev/null 2>&1; then
    say "starting the lab (scripts/lab.sh up; make lab-down stops it)"
    scripts/lab.sh up > /dev/null || die "the lab did not start (scripts/lab.sh up)"
fi
lab_mode=$(scripts/lab.sh status 2> /dev/null | grep -o 'durable\|FAST' | head -n 1)
pg_stop=immediate
if [[ $lab_mode == FAST ]]; then
    pg_stop=fast
    say "the lab's PostgreSQL runs FAST (LAB_FAST=1: fsync off): a crash may lose its acknowledged commits, so it is stopped cleanly (-m fast) here; a durable lab (make lab-down; make lab-up) is crashed (-m immediate)"
fi
eval "$(scripts/lab.sh env)" || die "scripts/lab.sh env failed"
lab_conn=$PG_CONN

# Another MallBots program on the lab's nats-server (make run, an exercise) shares the consumer
# groups of the run's program: it would take the run's messages, and the kills would hit it too.
others=$(curl -s --max-time 5 "http://127.0.0.1:${LAB_NATS_MON_PORT}/connz?limit=4096" | grep -c '"name": "mallbots"')
if ((others > 0)); then
    die "$others MallBots program(s) connected to the lab's nats-server (make run?): stop them first; this run kills and restarts the lab's servers, and they would take its messages"
fi

sql_lab() { psql "$lab_conn" -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
for db in $(sql_lab -c "select datname from pg_database where datname ~ '^chaos_ch[0-9]+_[0-9]+$'"); do
    pid=${db##*_}
    [[ -e /proc/$pid ]] || sql_lab -c "drop database if exists $db with (force)" > /dev/null
done
db=chaos_ch${nn}_$$
sql_lab -c "create database $db" > /dev/null || die "cannot create database $db"
app_conn=$(sed -E "s/dbname=[^ ]*/dbname=$db/" <<< "$lab_conn")
sql() { PGCONNECT_TIMEOUT=5 psql "$app_conn" -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

W=$(mktemp -d)
app_pid="" tool_pid=""
# a background job of this shell that is no longer running (asked of bash, not of /proc: a reaped
# pid may already belong to a thread of another process, as pids wrap at 32768)
exited() { ! jobs -rp | grep -qx "$1"; }
cleanup() {
    [[ -n $tool_pid ]] && kill -KILL "$tool_pid" 2> /dev/null
    if [[ -n $app_pid ]] && ! exited "$app_pid"; then
        kill -KILL "$app_pid" 2> /dev/null
    fi
    wait 2> /dev/null
    # the lab as it was: both servers up
    scripts/lab.sh status > /dev/null 2>&1 || scripts/lab.sh up > /dev/null 2>&1
    if ((keep)); then
        say "database $db kept (drop it: scripts/lab.sh reset-db $db, or psql)"
    else
        sql_lab -c "drop database if exists $db with (force)" > /dev/null 2>&1 ||
            say "could not drop database $db"
    fi
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -n ${WEB_PORT:-} && -n ${RPC_PORT:-} ]]; then
    web_port=${WEB_PORT#:} rpc_port=${RPC_PORT#:}
else
    read -r web_port rpc_port < <("$tool" --free-ports) || die "no free ports for the program"
fi
log=$out/ch$nn.app.log
: > "$log"
starts=0
start_app() {
    starts=$((starts + 1))
    printf '=== chaos.sh: start %d of the program\n' "$starts" >> "$log"
    PG_CONN=$app_conn WEB_HOST=127.0.0.1 WEB_PORT=$web_port RPC_HOST=127.0.0.1 RPC_PORT=$rpc_port \
        LOG_LEVEL=${CHAOS_LOG_LEVEL:-DEBUG} SHUTDOWN_TIMEOUT=10s "$bin" >> "$log" 2>&1 &
    app_pid=$!
}
# Waits (bounded) until the program answers; false when it exited or 60 s passed.
wait_app() {
    local i
    for ((i = 0; i < 600; i++)); do
        exited "$app_pid" && return 1
        curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$web_port/api/stores" 2> /dev/null && return 0
        sleep 0.1
    done
    return 1
}
accepted() { [[ -f $W/ids ]] && wc -l < "$W/ids" || echo 0; }

say "chapter $nn: $orders orders, $clients clients; $nats_kills nats-server kills, $pg_restarts PostgreSQL restarts (-m $pg_stop), $program_kills program kills; database $db, log $log"
start_app
wait_app || die "the program did not start; last lines of $log: $(tail -n 5 "$log")"

"$tool" --port "$web_port" --chaos --ids "$W/ids" --orders "$orders" --clients "$clients" \
    --timeout 10 --wait 60 --label "ch$nn chaos" --json --quiet > "$W/report" 2> "$W/tool.err" &
tool_pid=$!

# the events, interleaved: nats, program, pg, nats, program, nats, ...
events=()
k=$nats_kills q=$program_kills p=$pg_restarts
while ((k + q + p > 0)); do
    ((k > 0)) && events+=(nats) && k=$((k - 1))
    ((q > 0)) && events+=(program) && q=$((q - 1))
    ((p > 0)) && events+=(pg) && p=$((p - 1))
done
nevents=${#events[@]}
self_exits=0 done_events=()
# The program exited although nobody killed it: reported, and started again.
check_app() {
    if [[ -n $app_pid ]] && exited "$app_pid"; then
        wait "$app_pid" 2> /dev/null
        local rc=$?
        self_exits=$((self_exits + 1))
        say "the program exited by itself (status $rc) at $(accepted) accepted orders; started again"
        start_app
        wait_app || say "the program did not answer within 60 s after its restart"
    fi
}
t_start=$(date +%s)
for ((e = 0; e < nevents; e++)); do
    threshold=$(((e + 1) * orders / (nevents + 1)))
    deadline=$(($(date +%s) + 120))
    while ! exited "$tool_pid" && (($(accepted) < threshold)) && (($(date +%s) < deadline)); do
        check_app
        sleep 0.2
    done
    # a fast run can place every order before the last events are due: they still happen, while
    # the sagas and the relay finish the orders' flow (never skipped: a skipped crash would be a
    # check that was not made)
    at=$(accepted)
    exited "$tool_pid" && at="$at(after the last order)"
    case ${events[e]} in
        nats)
            scripts/lab.sh kill-nats > /dev/null || say "kill-nats failed"
            sleep "$down_s"
            scripts/lab.sh restart-nats > /dev/null || say "restart-nats failed"
            ;;
        pg)
            scripts/lab.sh restart-pg "$pg_stop" > /dev/null || say "restart-pg failed"
            ;;
        program)
            kill -KILL "$app_pid" 2> /dev/null
            wait "$app_pid" 2> /dev/null
            start_app
            wait_app || say "the program did not answer within 60 s after its restart"
            ;;
    esac
    done_events+=("${events[e]}@$at")
    say "event $((e + 1))/$nevents: ${events[e]} at $at accepted orders"
done
while ! exited "$tool_pid"; do
    check_app
    sleep 0.2
done
wait "$tool_pid"
tool_rc=$?
tool_pid=""
t_orders=$(($(date +%s) - t_start))
check_app
n_acc=$(accepted)
((n_acc > 0)) || die "no order was accepted (load generator exit $tool_rc): $(head -c 600 "$W/tool.err") $(grep -A3 '"errors"' "$W/report" | head -c 600)"

# ---- wait until the flow settled (bounded) -------------------------------------------------------
sql -c "create schema if not exists chaos; create table if not exists chaos.ids (id text primary key)" > /dev/null ||
    die "cannot create chaos.ids in $db"
sql -c "\\copy chaos.ids from '$W/ids'" > /dev/null || die "cannot load the accepted ids into chaos.ids"
outboxes=$(sql -c "select string_agg(format('%I.outbox', table_schema), ' ' order by table_schema) from information_schema.tables where table_name = 'outbox'")
inboxes=$(sql -c "select string_agg(format('%I.inbox', table_schema), ' ' order by table_schema) from information_schema.tables where table_name = 'inbox'")
unpub_sql="select 0"
for t in $outboxes; do unpub_sql+=" + (select count(*) from $t where published_at is null)"; done
approved_sql="select count(*) from chaos.ids i where exists (select 1 from ordering.events e where e.stream_id = i.id and e.event_name = 'ordering.OrderApproved')"
# the saga ends after the order is approved (its last reply), so the flow has settled when every
# accepted order's saga is done too
settled_sql="select count(*) from chaos.ids i join cosec.sagas s on s.id = i.id where s.done"
say "orders done in ${t_orders}s: $n_acc accepted; waiting (at most ${wait_s}s) until they are approved, their sagas done and the outboxes empty"
deadline=$(($(date +%s) + wait_s))
while :; do
    check_app
    n_appr=$(sql -c "$approved_sql" 2> /dev/null || echo -1)
    n_unpub=$(sql -c "$unpub_sql" 2> /dev/null || echo -1)
    n_done=$(sql -c "$settled_sql" 2> /dev/null || echo -1)
    ((n_appr == n_acc && n_unpub == 0 && n_done == n_acc)) && break
    (($(date +%s) >= deadline)) && break
    sleep 1
done
waited=$((wait_s - (deadline - $(date +%s))))

# ---- the checks -------------------------------------------------------------------------------------
fails=0
line() { printf '%-5s %s\n' "$1" "$2"; }
verdict() { # ok? text
    if (($1)); then line ok "$2"; else
        line FAIL "$2"
        fails=$((fails + 1))
    fi
}
echo "chaos ch$nn: $orders orders, $clients clients, lab PostgreSQL ${lab_mode:-?}; events: ${done_events[*]:-none} (of ${events[*]:-none}); program starts $starts, exits by itself $self_exits"
acc_f=$(grep -o '"failed": [0-9]*' "$W/report" | head -n 1 | grep -o '[0-9]*$')
echo "      $n_acc checkouts answered 2xx (accepted), ${acc_f:-?} orders abandoned (no answer or not 2xx) in ${t_orders}s; waited ${waited}s after the last order"
if command -v jq > /dev/null 2>&1; then # why orders were abandoned, by step and answer
    jq -r '.errors[] | "      abandoned: \(.count) x \(.step): \(if .status < 0 then "no answer" else "HTTP \(.status)" end), e.g. \(.sample[0:110])"' "$W/report" 2> /dev/null | head -n 8
fi

verdict $((n_appr == n_acc)) "approved: $n_appr of $n_acc accepted orders (lost: $((n_acc - n_appr)))"
if ((n_appr != n_acc)); then
    sql -c "select '      not approved: ' || i.id || ' order: ' || coalesce((select string_agg(split_part(event_name, '.', 2), ',' order by stream_version) from ordering.events e where e.stream_id = i.id), 'none') || ', saga: ' || coalesce((select format('step %s done %s compensating %s', step, done, compensating) from cosec.sagas s where s.id = i.id), 'none') || ', list: ' || coalesce((select status from depot.shopping_lists l where l.order_id = i.id), 'none') from chaos.ids i where not exists (select 1 from ordering.events e where e.stream_id = i.id and e.event_name = 'ordering.OrderApproved') order by i.id limit 5"
fi
read -r one zero more < <(sql -F ' ' -c "select count(*) filter (where n = 1), count(*) filter (where n = 0), count(*) filter (where n > 1) from (select (select count(*) from depot.shopping_lists l where l.order_id = i.id) as n from chaos.ids i) x")
verdict $((one == n_acc)) "shopping lists: $one orders with exactly one, $zero with none, $more with more than one"
read -r sagas_ok sagas_other < <(sql -F ' ' -c "select count(*) filter (where s.done and not s.compensating), count(*) filter (where not (s.done and not s.compensating)) from chaos.ids i join cosec.sagas s on s.id = i.id")
verdict $((sagas_ok == n_acc)) "payments: $sagas_ok orders with their payment confirmed once (create-order saga done, not compensating; one saga row per order), $sagas_other sagas not done or compensating, $((n_acc - sagas_ok - sagas_other)) orders without a saga"
if [[ " $inboxes " == *" payments.inbox "* ]]; then
    confirms=$(sql -c "select count(*) from payments.inbox where name like '%ConfirmPayment'")
    echo "      (payments.inbox: $confirms ConfirmPayment commands handled, one row per command id)"
fi
read -r ready inv_one inv_bad < <(sql -F ' ' -c "with r as (select i.id from chaos.ids i where exists (select 1 from ordering.events e where e.stream_id = i.id and e.event_name = 'ordering.OrderReadied')) select count(*), count(*) filter (where n = 1), count(*) filter (where n <> 1) from (select (select count(*) from payments.invoices v where v.order_id = r.id) as n from r) x")
if ((ready == 0)); then
    line ok "invoices: no accepted order got ready (the chaos orders are not shopped): nothing to invoice"
else
    verdict $((inv_one == ready)) "invoices: $inv_one of $ready ready orders with exactly one invoice, $inv_bad with none or more"
fi
n_unpub=$(sql -c "$unpub_sql")
per_box=$(for t in $outboxes; do printf '%s %s, ' "$t" "$(sql -c "select count(*) from $t where published_at is null")"; done)
verdict $((n_unpub == 0)) "outbox: $n_unpub rows left unpublished (${per_box%, })"

# notifications: one row "kind order_id" per notification sent
# (chapter 09 records each notification sent as a row of notifications.sent, written with the
# inbox row of the event that caused it: the table is the record; the log line is written before
# the commit, so a rolled-back attempt would count there)
notify_sql=${CHAOS_NOTIFY_SQL:-} notify_from="CHAOS_NOTIFY_SQL"
if [[ -z $notify_sql && $(sql -c "select to_regclass('notifications.sent') is not null") == t ]]; then
    notify_sql="select notification, order_id from notifications.sent" notify_from="notifications.sent"
fi
if [[ -n $notify_sql ]]; then
    sql -F ' ' -c "$notify_sql" > "$W/sent" || die "reading $notify_from failed"
else
    notify_from="the program's log"
    grep -ao 'sending SMS notification=[A-Za-z]* order_id=[^ ]*' "$log" |
        sed -E 's/.*notification=([^ ]*) order_id=(.*)/\1 \2/' > "$W/sent"
fi
sort "$W/sent" | uniq -c | awk '$1 > 1' > "$W/twice"
n_twice=$(wc -l < "$W/twice")
awk '$1 == "OrderCreated" {print $2}' "$W/sent" | sort -u > "$W/created"
sort -u "$W/ids" > "$W/ids.sorted"
n_created_missing=$(comm -23 "$W/ids.sorted" "$W/created" | wc -l)
verdict $((n_twice == 0)) "notifications: $n_twice sent more than once (from $notify_from; $(wc -l < "$W/sent") sent)"
head -n 3 "$W/twice" | sed 's/^ */      sent twice: /'
verdict $((n_created_missing == 0)) "notifications: $((n_acc - n_created_missing)) of $n_acc accepted orders got their OrderCreated notification ($n_created_missing never)"

# what was absorbed
inbox_rows=0
for t in $inboxes; do inbox_rows=$((inbox_rows + $(sql -c "select count(*) from $t"))); done
skipped=$(grep -ac 'was handled before' "$log")
per_schema=$(grep -ao 'inbox [a-z_]*: .* was handled before' "$log" | awk '{print $2}' | sort | uniq -c | awk '{printf "%s %s, ", $2, $1}')
echo "absorbed: inboxes: $skipped deliveries dropped as handled before (${per_schema%, }); $inbox_rows inbox rows (${inboxes:-no inbox})"
if [[ ${CHAOS_LOG_LEVEL:-DEBUG} == DEBUG ]]; then
    relay_dups=$(grep -ao 'published [0-9]* of [0-9]* rows ([0-9]* duplicates)' "$log" | sed -E 's/.*\(([0-9]*) duplicates\)/\1/' | awk '{s += $1} END {print s + 0}')
    relay_rows=$(grep -ao 'published [0-9]* of [0-9]* rows' "$log" | awk '{s += $2} END {print s + 0}')
    echo "absorbed: stream: $relay_dups of $relay_rows rows the relay published were duplicates (Nats-Msg-Id: stored once)"
else
    echo "absorbed: stream: n/a (the relay's duplicate counts are DEBUG lines: CHAOS_LOG_LEVEL=DEBUG)"
fi
if ((tool_rc > 1)); then
    line FAIL "the load generator failed (exit $tool_rc): $(head -c 300 "$W/tool.err")"
    fails=$((fails + 1))
fi

# stop the program (drain) before the database goes
kill -INT "$app_pid" 2> /dev/null
for ((i = 0; i < 300; i++)); do
    exited "$app_pid" && break
    sleep 0.1
done
((fails == 0)) && echo "chaos: every check passed: nothing lost, nothing duplicated" ||
    echo "chaos: $fails checks FAILED (the program's log: $log)"
((fails == 0))
