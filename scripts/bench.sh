#!/usr/bin/env bash
# bench.sh [--san] NN [bench options...] -- load-tests chapter NN's program on a scratch database.
#
# Called by `make bench` (after `make chNN` and the build of the load generator) and by
# tests/scripts/test_bench.sh (with --san: the sanitizer builds of both). Steps, each bounded:
#   1. starts the lab if it is not running (and leaves it running, as `make run` does);
#   2. drops scratch databases of earlier runs whose process is gone, creates bench_chNN_<pid>;
#   3. from chapter 06 on, starts a private nats-server (JetStream, a scratch store, a free port
#      of 127.0.0.1; log build/bench/chNN.nats.log): the lab's stream belongs to `make run` and
#      the exercises, whose consumer groups have the same names, so a run on it would take their
#      messages (and leave its own behind for them);
#   4. starts build/chNN/mallbots (build/san/chNN/mallbots with --san) on it, on WEB_PORT and
#      RPC_PORT when set, else on two free ports; LOG_LEVEL is BENCH_LOG_LEVEL (default INFO: the
#      DEBUG default of the program logs every request); its output goes to
#      build/bench/chNN.app.log (build/san/bench/ with --san);
#   5. runs the load generator (build/bench/bench, tests/bench/bench.c) with --pid, --pg-db,
#      --stop and the given options: it waits until the program answers, places the orders and
#      stops the program with SIGINT, so that PostgreSQL's counters are complete; from chapter
#      08 on also with --follow (each order followed to approved through the stream) and
#      --nats-pid (the private nats-server, for its CPU time);
#   6. waits for the program's exit (SIGINT again, SIGKILL after 30 s), drops the database, stops
#      the private nats-server and deletes its store.
# Exit status: the load generator's (0 all orders accepted, 1 a failure, 2 usage), 1 when the
# program did not start or did not exit cleanly.
set -uo pipefail
cd "$(dirname "$0")/.."

san=0
if [[ ${1:-} == --san ]]; then
    san=1
    shift
fi
nn=${1:-}
nn=${nn#ch}
[[ $# -gt 0 ]] && shift
if [[ ! $nn =~ ^[0-9]{2}$ ]]; then
    echo "usage: $0 [--san] NN [bench options]   (bench options: build/bench/bench --help)" >&2
    exit 2
fi
if ((san)); then
    bin=build/san/ch$nn/mallbots tool=build/san/bench/bench
else
    bin=build/ch$nn/mallbots tool=build/bench/bench
fi
die() {
    echo "bench: $*" >&2
    exit 1
}
[[ -x $bin ]] || die "$bin not found; build it first: make ch$nn"
[[ -x $tool ]] || die "$tool not found; build it first: make -f mk/bench.mk"

if ! scripts/lab.sh status > /dev/null 2>&1; then
    echo "bench: starting the lab (scripts/lab.sh up; make lab-down stops it)" >&2
    scripts/lab.sh up > /dev/null || die "the lab did not start (scripts/lab.sh up)"
fi
eval "$(scripts/lab.sh env)" || die "scripts/lab.sh env failed"
lab_conn=$PG_CONN # the lab's database: the load generator reads the statistics through it

sql() { scripts/lab.sh psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

# scratch databases "bench_chNN_<pid>" of runs whose process is gone (a crash, a kill -9)
for db in $(sql -c "select datname from pg_database where datname ~ '^bench_ch[0-9]+_[0-9]+$'"); do
    pid=${db##*_}
    [[ -e /proc/$pid ]] || sql -c "drop database if exists $db with (force)" > /dev/null
done

db=bench_ch${nn}_$$
sql -c "create database $db" > /dev/null || die "cannot create database $db"
app_pid="" nats_pid="" nats_dir=""
cleanup() {
    if [[ -n $app_pid ]] && kill -0 "$app_pid" 2> /dev/null; then
        kill -KILL "$app_pid" 2> /dev/null
        wait "$app_pid" 2> /dev/null
    fi
    sql -c "drop database if exists $db with (force)" > /dev/null ||
        echo "bench: could not drop database $db" >&2
    if [[ -n $nats_pid ]]; then
        kill "$nats_pid" 2> /dev/null
        wait "$nats_pid" 2> /dev/null
    fi
    [[ -n $nats_dir ]] && rm -rf "$nats_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -n ${WEB_PORT:-} && -n ${RPC_PORT:-} ]]; then
    web_port=${WEB_PORT#:} rpc_port=${RPC_PORT#:}
else
    read -r web_port rpc_port < <("$tool" --free-ports) || die "no free ports for the program"
fi
# the private nats-server (chapters 06 on)
if ((10#$nn >= 6)); then
    nats_bin=/usr/sbin/nats-server
    [[ -x $nats_bin ]] || nats_bin=$(command -v nats-server) || die "nats-server not found (scripts/deps.sh installs it)"
    nats_port=""
    for ((i = 0; i < 10; i++)); do
        read -r p _ < <("$tool" --free-ports) || die "no free port for nats-server"
        [[ $p != "$web_port" && $p != "$rpc_port" ]] && nats_port=$p && break
    done
    [[ -n $nats_port ]] || die "no free port for nats-server"
    nats_dir=$(mktemp -d "${TMPDIR:-/tmp}/mallbots-bench-nats.XXXXXX") || die "mktemp failed"
    "$nats_bin" -a 127.0.0.1 -p "$nats_port" -js -sd "$nats_dir" > "$(dirname "$tool")/ch$nn.nats.log" 2>&1 &
    nats_pid=$!
    NATS_URL=nats://127.0.0.1:$nats_port # the program waits for it to answer (NATS connect timeout)
fi
log=$(dirname "$tool")/ch$nn.app.log
app_conn=$(sed -E "s/dbname=[^ ]*/dbname=$db/" <<< "$lab_conn")
PG_CONN=$app_conn NATS_URL=${NATS_URL:-} WEB_HOST=127.0.0.1 WEB_PORT=$web_port RPC_HOST=127.0.0.1 RPC_PORT=$rpc_port \
    LOG_LEVEL=${BENCH_LOG_LEVEL:-INFO} SHUTDOWN_TIMEOUT=10s "$bin" > "$log" 2>&1 &
app_pid=$!

# Chapters 08 on: an order is created and approved by messages after its checkout; the load
# generator follows each one to approved through the stream, and measures nats-server's CPU too.
follow=()
if ((10#$nn >= 8)); then
    follow=(--follow --nats-url "$NATS_URL" --nats-pid "$nats_pid")
fi
PG_CONN=$lab_conn "$tool" --port "$web_port" --pid "$app_pid" --stop --pg-db "$db" --label "ch$nn" \
    "${follow[@]}" "$@"
rc=$?

# Asked of bash, whose background job the program is, not of /proc: once the program has exited
# and been reaped, its pid is free and may already be a thread of another process (pids wrap at
# 32768, and each program starts some 2,000 threads), which /proc would show as running.
exited() { ! jobs -rp | grep -qx "$1"; }
if ! exited "$app_pid" && kill -INT "$app_pid" 2> /dev/null; then
    for ((i = 0; i < 300; i++)); do
        exited "$app_pid" && break
        sleep 0.1
    done
fi
if ! exited "$app_pid"; then
    echo "bench: $bin did not exit within 30 s of SIGINT; killed (log: $log, its threads at the end)" >&2
    { # what it was doing: each thread's state and kernel wait, and its stacks when gdb is there
        echo "=== bench.sh: the program did not exit within 30 s of SIGINT; its threads:"
        for t in /proc/"$app_pid"/task/*; do
            echo "$(basename "$t") $(cat "$t/comm" 2> /dev/null) $(cut -d' ' -f3 "$t/stat" 2> /dev/null) $(cat "$t/wchan" 2> /dev/null)"
        done
        command -v gdb > /dev/null && timeout 30 gdb -p "$app_pid" -batch -ex "thread apply all bt 30" 2>&1
    } >> "$log"
    kill -KILL "$app_pid" 2> /dev/null
    rc=1
fi
wait "$app_pid"
app_rc=$?
app_pid=""
if ((app_rc != 0)); then
    echo "bench: $bin exited with status $app_rc; last lines of $log:" >&2
    tail -n 15 "$log" | sed 's/^/bench:   | /' >&2
    rc=1
fi
exit "$rc"
