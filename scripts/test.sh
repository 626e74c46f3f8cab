#!/usr/bin/env bash
# test.sh [NN] -- the whole test run behind `make test` (or one chapter's with NN).
#
#  1. builds the core library and every runnable chapter with ASan + UBSan (build/san/...);
#  2. runs the unit tests (no servers) and the check that every chapter patch applies;
#  3. starts the lab if it is not running (and stops it again at the end, also on failure) and
#     runs the integration and end-to-end tests against the real PostgreSQL and nats-server, and
#     checks that every exercise is honest (its tests pass on the reference solution and fail on
#     the untouched starter);
#     and runs the lab console's browser tests on the newest chapter tested (headless Chromium;
#     counted as skipped, with the reason, when Chromium or Node.js is not installed);
#  Unit tests, checks, the chapters' end-to-end suites, the benches and the exercise checks run
#  PAR_JOBS at a time (default 2; see "running several at a time" below).
#  4. ends with exactly one line "N passed, N failed" (after a line "N skipped: ..." when something
#     could not run) and exits non-zero on any failure.
# Logs of every suite are kept in build/test-logs/.
set -uo pipefail
cd "$(dirname "$0")/.."
only=${1:-}
only=${only#ch}
[[ $only =~ ^[0-9]$ ]] && only=0$only # 3 = 03
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
LOGS=build/test-logs
rm -rf "$LOGS"; mkdir -p "$LOGS"
passed=0 failed=0
failures=() skips=()
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LOG_LEVEL=${TEST_LOG_LEVEL:-WARN}

note_fail() { failed=$((failed + 1)); failures+=("$1"); }
logname() { local n=${1//[^A-Za-z0-9._-]/_}; echo "$LOGS/$n.log"; }

# Runs one cmocka executable and adds its counts. A crash or a sanitizer report (non-zero exit
# without a cmocka FAILED line) counts as one failure.
run_suite() { # name binary
    local log
    log=$(logname "$1")
    timeout 600 "$2" > "$log" 2>&1
    tally_suite "$1" $?
}

# Adds the counts of a suite that ran (its log, its exit status rc) and prints its line.
tally_suite() { # name rc
    local name=$1 rc=$2 log p f
    log=$(logname "$name")
    p=$(grep -aoE '^\[  PASSED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
    f=$(grep -aoE '^\[  FAILED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
    passed=$((passed + p))
    if ((f > 0)); then
        failed=$((failed + f)); failures+=("$name ($f failed, see $log)")
    elif grep -aqE '^\[ +(FAILED|ERROR) +\].*GROUP (SETUP|TEARDOWN)' "$log"; then
        # cmocka 1.1.5 exits 0 when only a group setup/teardown fails
        note_fail "$name (group setup or teardown failed; see $log)"
    elif ((rc != 0)); then
        note_fail "$name (exit $rc: crash, timeout or sanitizer report; see $log)"
    elif ((p == 0)); then
        note_fail "$name (ran no test; see $log)"
    fi
    printf '%-44s %3d passed, %d failed%s\n' "$name" "$p" "$f" "$( ((rc != 0 && f == 0)) && echo " (exit $rc)")"
}

# Checks: a command that succeeds or fails (its output is kept in the log).
run_check() { # name command...
    local name=$1 log; shift
    log=$(logname "$name")
    "$@" > "$log" 2>&1
    tally_check "$name" $?
}
tally_check() { # name rc
    local name=$1 log
    log=$(logname "$name")
    if (($2 == 0)); then
        passed=$((passed + 1)); printf '%-44s ok\n' "$name"
    else
        note_fail "$name (see $log)"; printf '%-44s FAILED\n' "$name"; sed 's/^/    /' "$log" | tail -20
    fi
}

# ---- running several at a time ----
# Most of an end-to-end suite's time is spent waiting (for a program to start, a message to
# arrive, a crash to be noticed), so the cores have room for a second one. Suites, benches and
# exercise checks run PAR_JOBS jobs at a time (default 2; PAR_JOBS=1 runs one after the other):
# each test's program has a database and, from chapter 06 on, a nats-server of its own
# (tests/support/e2e.h), as have the benches and the exercises' tests. A job runs one or more
# steps one after the other (a chapter's exercises share one build directory); each step has its
# log, and the steps' lines are printed in the order they were queued, as they end.
PAR_JOBS=${PAR_JOBS:-2}
declare -a par_kinds=() par_names=()
par_next=0
par_queue() { # suite|check name: a step whose line par_tally prints once it ended
    par_kinds+=("$1"); par_names+=("$2")
    rm -f "$(logname "$2").rc"
}
par_step() { # name command... (inside a job): runs one step, then records its exit status
    local log rc
    log=$(logname "$1"); shift
    "$@" > "$log" 2>&1
    rc=$?
    echo "$rc" > "$log.rc.tmp" && mv "$log.rc.tmp" "$log.rc"
    return "$rc"
}
par_slot() { # waits until fewer than PAR_JOBS jobs are running
    while (($(jobs -rp | wc -l) >= PAR_JOBS)); do wait -n; par_tally; done
}
par_tally() { # prints the steps that ended, in the order they were queued, up to one still running
    local name log
    while ((par_next < ${#par_names[@]})); do
        name=${par_names[par_next]}
        log=$(logname "$name")
        [[ -f $log.rc ]] || return 0
        if [[ ${par_kinds[par_next]} == suite ]]; then
            tally_suite "$name" "$(cat "$log.rc")"
        else
            tally_check "$name" "$(cat "$log.rc")"
        fi
        rm -f "$log.rc"
        par_next=$((par_next + 1))
    done
}
par_wait() { wait; par_tally; }
par_run() { # suite|check NAME COMMAND...: queues one step as a job of its own
    local kind=$1 name=$2
    shift 2
    par_slot
    par_queue "$kind" "$name"
    par_step "$name" "$@" &
    par_tally
}
# suite NAME BINARY [VAR=value...]: a cmocka suite as a job; check NAME COMMAND...: a check
suite() { local name=$1 bin=$2; shift 2; par_run suite "$name" env "$@" timeout 600 "$bin"; }
check() { par_run check "$@"; }

finish() {
    if ((${#failures[@]})); then
        echo "failures:"; printf '  %s\n' "${failures[@]}"
    fi
    if ((${#skips[@]})); then # not run: neither passed nor failed
        echo "${#skips[@]} skipped:"; printf '  %s\n' "${skips[@]}"
    fi
    echo "$passed passed, $failed failed"
    ((failed == 0))
    exit $?
}

# ---- 1. build -------------------------------------------------------------------------------
chapters=()
for n in $(scripts/chapter.sh list); do
    [[ -n $only && $n != "$only" ]] && continue
    scripts/chapter.sh runnable "$n" && chapters+=("$n")
done
if [[ -n $only && ${#chapters[@]} -eq 0 ]]; then
    echo "test: chapter $only has no runnable code"; note_fail "chapter $only"; finish
fi

build() { # name log command...
    local name=$1; shift
    if ! "$@" > "$LOGS/build-$name.log" 2>&1; then
        note_fail "build $name (see $LOGS/build-$name.log)"
        echo "build $name FAILED:"; grep -aE 'error|Error' "$LOGS/build-$name.log" | head -20
        return 1
    fi
}
echo "building (sanitizer build, $JOBS jobs)..."
build core make -j"$JOBS" -f mk/core.mk OUT=build/san/core SAN=1 all tests || finish
for n in "${chapters[@]}"; do
    scripts/chapter.sh sync "$n" "build/ch$n/src"
    build "ch$n" make -j"$JOBS" -f mk/chapter.mk SRC="build/ch$n/src" OUT="build/san/ch$n" \
        CORE=build/san/core SAN=1 all tests
done

# ---- 2. unit tests and checks ------------------------------------------------------------------
echo "unit tests:"
if [[ -z $only ]]; then
    for t in build/san/core/tests/shared/test_*; do [[ -x $t ]] && suite "core/$(basename "$t")" "$t"; done
fi
for n in "${chapters[@]}"; do
    for t in build/san/ch"$n"/tests/unit/test_*; do
        [[ -x $t && $t != *.d && $t != *.o ]] && suite "ch$n/$(basename "$t")" "$t"
    done
done
par_wait
echo "checks:"
check "chapters: patches apply, no whole-file shadows" scripts/chapter.sh check
check "format: every C file follows .clang-format" scripts/format.sh check
if [[ -z $only ]]; then
    check "chapters: chapter.sh carry and check" tests/scripts/test_chapter_sh.sh
    check "scripts: chapter numbers and resets" tests/scripts/test_learner.sh offline
    check "scripts: exercise report" tests/scripts/test_learner.sh report
fi
par_wait

# ---- 3. integration and end-to-end tests against the lab ---------------------------------------
started_lab=0
stop_lab() { ((started_lab)) && scripts/lab.sh down > /dev/null 2>&1; started_lab=0; }
trap 'stop_lab' EXIT
trap 'kill $(jobs -p) 2> /dev/null; stop_lab; exit 130' INT TERM
if ! scripts/lab.sh status > /dev/null 2>&1; then
    # the tests opt into the fast mode (fsync off: scripts/lab.sh, "Durability"); a lab that was
    # running already keeps its mode
    if LAB_FAST=1 scripts/lab.sh up > "$LOGS/lab-up.log" 2>&1; then
        started_lab=1
    else
        note_fail "lab up (see $LOGS/lab-up.log)"; cat "$LOGS/lab-up.log"; finish
    fi
fi
eval "$(scripts/lab.sh env)"
export PG_CONN NATS_URL
echo "integration and end-to-end tests (lab: PostgreSQL + nats-server on 127.0.0.1):"
if [[ -z $only ]]; then
    for t in build/san/core/tests/shared/it_*; do [[ -x $t ]] && run_suite "core/$(basename "$t")" "$t"; done
fi
for n in "${chapters[@]}"; do
    for t in build/san/ch"$n"/tests/e2e/test_*; do
        [[ -x $t ]] && suite "ch$n/$(basename "$t")" "$t" MALLBOTS_BIN="$PWD/build/san/ch$n/mallbots" CHAPTER="$n"
    done
done
par_wait
# the load generator is built once, before the benches that use it run side by side
make -f mk/bench.mk OUT=build/san/bench CORE=build/san/core SAN=1 > "$LOGS/build-bench.log" 2>&1
for n in "${chapters[@]}"; do check "ch$n bench: 20 orders, no speed check" tests/scripts/test_bench.sh "$n"; done
par_wait
# The small chaos run (chapter 09 on): it restarts the lab's servers, so it runs alone, here.
for n in "${chapters[@]}"; do
    ((10#$n >= 9)) && run_check "ch$n chaos: 800 orders, a crash of each kind" tests/scripts/test_chaos.sh "$n"
done
# The lab console in a real browser (tests/browser/), on the newest chapter tested: the console is
# the core's, so one chapter shows it works; Chromium costs seconds per start.
browser_missing() { # prints what is missing for the browser tests; nothing when all is there
    local chromium=${CHROMIUM:-/usr/bin/chromium} miss=()
    [[ -x $chromium ]] || miss+=("chromium ($chromium)")
    command -v "${NODE:-node}" > /dev/null 2>&1 || miss+=("node")
    command -v npm > /dev/null 2>&1 || miss+=("npm")
    ((${#miss[@]})) && echo "${miss[*]} not installed"
}
if ((${#chapters[@]})); then
    n=${chapters[-1]}
    missing=$(browser_missing)
    if [[ -n $missing ]]; then
        skips+=("ch$n/browser: the lab console in Chromium (9 browser tests): $missing; make deps-browser installs them")
        printf '%-44s SKIPPED (%s)\n' "ch$n/browser" "$missing"
    else
        run_check "browser: npm ci (tests/browser)" make -s browser-npm
        MALLBOTS_BIN="$PWD/build/san/ch$n/mallbots" CHAPTER="$n" SCREENSHOT_DIR="$LOGS" \
            run_suite "ch$n/browser" build/san/core/tests/browser/console_host
        grep -aE '^(not )?ok [0-9]+ - ' "$(logname "ch$n/browser")" | sed 's/^/    /'
    fi
fi
# Exercises may test repositories, so they are checked with the lab up. A chapter's exercises
# share its build directory (build/ex/chNN), so they are one job, one after the other.
for n in "${chapters[@]}"; do
    exs=$(scripts/exercise.sh ids "$n")
    [[ -n $exs ]] || continue
    par_slot
    for ex in $exs; do par_queue check "ch$n exercise $ex: honest"; done
    (for ex in $exs; do par_step "ch$n exercise $ex: honest" scripts/exercise.sh verify "$n" "$ex"; done) &
    par_tally
done
par_wait
if [[ -z $only ]]; then
    run_check "scripts: refuse another chapter's database" tests/scripts/test_learner.sh databases
    run_check "scripts: exercises use the lab's settings" tests/scripts/test_learner.sh exercise-env
fi
stop_lab
finish
