#!/usr/bin/env bash
# test_chaos.sh NN -- the small chaos run of `make test` (chapters 09 on): scripts/chaos.sh --san on
# chapter NN's sanitizer build with 800 orders, 1 client (enough that the crashes fall among the
# orders: a crash takes a few seconds, and the program places about 40 orders a second) and one
# crash of each kind (nats-server kill -9, PostgreSQL restart, program kill -9), so that crash
# safety stays shown. Fails when
# chaos.sh finds any lost or duplicated effect (its checks are not weakened here: every accepted
# order approved, one shopping list and one confirmed payment per order, one invoice per ready
# order, no outbox row unpublished, no notification sent twice or never) or when the run itself
# breaks. Also checks chaos.sh's usage errors. Prints chaos.sh's report and one line per check;
# exits non-zero when one fails. Run by scripts/test.sh with the lab up (build/san/core and
# build/san/chNN built). It restarts the lab's servers: nothing else may use the lab meanwhile
# (scripts/test.sh runs one test at a time).
set -uo pipefail
cd "$(dirname "$0")/../.."
nn=${1:?usage: test_chaos.sh NN}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fails=0
ok() { echo "ok   $1"; }
bad() {
    echo "FAIL $1"
    fails=$((fails + 1))
}

if ! make -f mk/bench.mk OUT=build/san/bench CORE=build/san/core SAN=1 > "$W/build" 2>&1; then
    bad "build the load generator"
    cat "$W/build"
    exit 1
fi

scripts/chaos.sh --bad-option > "$W/out" 2>&1
(($? == 2)) && ok "an unknown option: exit 2" || bad "an unknown option: exit 2"
scripts/chaos.sh --orders x > "$W/out" 2>&1
(($? == 2)) && grep -q "needs a number" "$W/out" && ok "--orders x: exit 2, says so" ||
    bad "--orders x: exit 2, says so"

timeout 900 scripts/chaos.sh --san "$nn" --orders 800 --clients 1 --nats-kills 1 --pg-restarts 1 \
    --program-kills 1 --wait 90 > "$W/report" 2> "$W/err"
rc=$?
cat "$W/report"
sed 's/^/     /' "$W/err" | tail -n 20
grep -q "^chaos ch$nn: 800 orders" "$W/report" && ok "chaos.sh ran to its report" ||
    bad "chaos.sh ran to its report"
grep -qE "events: nats@[0-9]+ program@[0-9]+ pg@[0-9]+ " "$W/report" &&
    ok "one crash of each kind happened during the orders" ||
    bad "one crash of each kind happened during the orders"
((rc == 0)) && ok "chaos.sh: nothing lost, nothing duplicated (exit 0)" ||
    bad "chaos.sh: nothing lost, nothing duplicated (exit $rc; the FAIL lines above say what)"
scripts/lab.sh status > /dev/null 2>&1 && ok "the lab is up again afterwards" ||
    bad "the lab is up again afterwards"

# Another program on the lab's nats-server (here a bare client that calls itself "mallbots", as
# the program does): chaos.sh refuses to start rather than share the consumer groups with it.
eval "$(scripts/lab.sh env)"
if exec 3<> "/dev/tcp/127.0.0.1/$LAB_NATS_PORT"; then
    printf 'CONNECT {"name":"mallbots","verbose":false,"pedantic":false}\r\nPING\r\n' >&3
    sleep 0.5
    scripts/chaos.sh --san "$nn" --orders 1 > "$W/other" 2>&1
    rc=$?
    exec 3>&-
    ((rc != 0)) && grep -q "connected to the lab's nats-server" "$W/other" &&
        ok "refuses to run next to another program on the lab's nats-server" ||
        bad "refuses to run next to another program on the lab's nats-server (exit $rc: $(tail -n 1 "$W/other"))"
else
    bad "refuses to run next to another program (cannot connect to the lab's nats-server)"
fi
((fails == 0))
