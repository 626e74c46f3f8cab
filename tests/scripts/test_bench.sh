#!/usr/bin/env bash
# test_bench.sh NN -- keeps `make bench` from rotting: builds the load generator with the sanitizers
# and runs scripts/bench.sh on chapter NN's sanitizer build with 20 orders, 2 clients and 20 reads,
# then checks the JSON report: every order accepted, every request answered, figures present (from
# chapter 08 on also every order followed to approved, and nats-server's CPU). No
# figure of speed is checked (docs/bench.md). Also checks the load generator's failures: usage
# errors, no program to talk to. Prints one line per check; exits non-zero when one fails. Run by
# scripts/test.sh with the lab up (build/san/core and build/san/chNN built).
set -uo pipefail
cd "$(dirname "$0")/../.."
nn=${1:?usage: test_bench.sh NN}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fails=0
ok() { echo "ok   $1"; }
bad() {
    echo "FAIL $1"
    fails=$((fails + 1))
}
check() { # description grep-pattern file
    if grep -qE -- "$2" "$3"; then ok "$1"; else bad "$1 (no match for $2 in $3)"; fi
}

if ! make -f mk/bench.mk OUT=build/san/bench CORE=build/san/core SAN=1 > "$W/build" 2>&1; then
    bad "build the load generator"
    cat "$W/build"
    exit 1
fi
tool=build/san/bench/bench

# the lab's nats-server's message count (chapters 06 on: the run must use a private server)
lab_messages() {
    eval "$(scripts/lab.sh env)"
    curl -s --max-time 5 "http://127.0.0.1:${LAB_NATS_MON_PORT}/jsz" | sed -n 's/^  "messages": \([0-9]*\),$/\1/p'
}
before=$(lab_messages)

# 20 orders and 20 reads of each kind on the chapter's program, on a scratch database
scripts/bench.sh --san "$nn" --orders 20 --clients 2 --reads 20 --pg-wait 2 --json --quiet \
    > "$W/report" 2> "$W/err"
rc=$?
((rc == 0)) && ok "bench.sh --san $nn exits 0" || bad "bench.sh --san $nn exits 0 (exit $rc)"
cp "$W/report" "build/san/bench/ch$nn.report.json" 2> /dev/null
check "20 of 20 orders accepted" '^  "accepted": 20,$' "$W/report"
check "none failed" '^  "failed": 0,$' "$W/report"
check "140 requests: 5 an order, 20 reads of each kind" '^  "requests": 140,$' "$W/report"
check "no error" '^  "errors": \[\],$' "$W/report"
check "not aborted" '^  "aborted": null,$' "$W/report"
check "the program stopped cleanly" '^  "stop_error": null,$' "$W/report"
check "latency p99 reported" '^    "p99": [0-9.]+,$' "$W/report"
check "program CPU per order reported" '^    "program": [0-9.]+,$' "$W/report"
check "PostgreSQL CPU per order reported" '^    "postgres": [0-9.]+,$' "$W/report"
check "commits per order: at least one" '^    "commits": ([1-9][0-9]*)(\.[0-9]+)?,$' "$W/report"
check "peak RSS reported" '^  "peak_rss_kb": [1-9][0-9]*,$' "$W/report"
check "20 reads of a basket answered" '"ok": 20,' "$W/report"
# chapters 08 on: every order followed to approved through the stream
if ((10#$nn >= 8)); then
    check "followed to approved" '^  "follow": true,$' "$W/report"
    check "20 of 20 orders approved" '^  "approved": 20,$' "$W/report"
    check "approved orders/s reported" '^  "approved_per_s": [0-9.]+,$' "$W/report"
    check "checkout -> approved p99 reported" '^    "p99": [0-9.]+,$' <(sed -n '/"checkout_to_approved_ms"/,/}/p' "$W/report")
    check "nats-server CPU per order reported" '^    "nats": [0-9.]+,$' "$W/report"
    check "no follow error" '^  "follow_error": null,$' "$W/report"
else
    check "not followed before chapter 08" '^  "follow": false,$' "$W/report"
fi
if ((fails > 0)); then
    sed 's/^/     /' "$W/err" "$W/report" | head -60
fi
if ((10#$nn >= 6)); then
    after=$(lab_messages)
    [[ -n $before && $before == "$after" ]] && ok "the lab's stream is untouched ($before messages before and after)" ||
        bad "the lab's stream is untouched (${before:-?} messages before, ${after:-?} after)"
fi
grep -q '^bench_ch' <(scripts/lab.sh psql -X -A -t -c "select datname from pg_database where datname like 'bench_ch${nn}_%'") &&
    bad "the scratch database is dropped" || ok "the scratch database is dropped"

# failures of the load generator itself: one clear line, the right exit status
"$tool" --clients 0 > "$W/out" 2>&1
(($? == 2)) && ok "--clients 0: exit 2" || bad "--clients 0: exit 2"
check "--clients 0: names the option" 'bad value "0" for --clients' "$W/out"
"$tool" --orders 0 > "$W/out" 2>&1
(($? == 2)) && ok "--orders 0 without --reads: exit 2" || bad "--orders 0 without --reads: exit 2"
read -r port _ < <("$tool" --free-ports)
"$tool" --port "$port" --wait 1 --orders 1 > "$W/out" 2>&1
(($? == 1)) && ok "no program on the port: exit 1" || bad "no program on the port: exit 1"
check "no program on the port: says so" "^bench: no answer on 127.0.0.1:$port within 1 s" "$W/out"
(($(wc -l < "$W/out") == 1)) && ok "no program on the port: one line" ||
    bad "no program on the port: one line ($(wc -l < "$W/out") lines)"
((fails == 0))
