#!/usr/bin/env bash
# test_learner.sh PART -- checks of the learner-facing scripts (make run, the exercises, the lab's
# databases), run by scripts/test.sh. Each PART prints what it checked and exits non-zero at the
# first check that fails, naming it.
#
#   offline       chapter numbers (3 = 03), chapters without a program, make exercise-reset (needs
#                 CH and EX, keeps the learner's files aside), embed-sql.sh's chapter; no servers
#   report        scripts/exercise-report.awk on recorded test output (tests/scripts/fixtures/)
#   databases     (lab up, sanitizer builds of chapters 03 and 05) a chapter refuses a database
#                 another chapter migrated, with the fix; lab.sh reset-db empties a database
#   exercise-env  (lab up, ch03 built) an exercise takes LAB_PG_PORT from scripts/lab.sh env
#
# Databases made here are named e2e_learner_<pid>_<n>, so a run that dies leaves nothing that
# the next e2e test does not drop (tests/support/e2e.c); no chapter database is created.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "FAILED: $*" >&2
    exit 1
}
# expect_in TEXT NEEDLE WHAT: TEXT contains NEEDLE (a fixed string, may span lines)
expect_in() { [[ $1 == *"$2"* ]] || fail "$3: wanted \"$2\" in:"$'\n'"$1"; }
expect_not_in() { [[ $1 != *"$2"* ]] || fail "$3: did not want \"$2\" in:"$'\n'"$1"; }
ok() { echo "ok: $*"; }
# free_port FROM: the first port from FROM on where nothing listens (and no lab port)
free_port() {
    local port
    for ((port = $1; port < $1 + 100; port++)); do
        [[ $port != "${LAB_PG_PORT:-15432}" && $port != "${LAB_NATS_PORT:-14222}" &&
            $port != "${LAB_NATS_MON_PORT:-18222}" ]] || continue
        timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2> /dev/null || { echo "$port"; return; }
    done
    fail "no free port from $1 on"
}

part_offline() {
    local out rc
    out=$(LAB_PG_PORT=15999 scripts/lab.sh env 3)
    expect_in "$out" "port=15999 dbname=mallbots_ch03 " "lab.sh env 3"
    out=$(LAB_PG_PORT=15999 scripts/lab.sh env)
    expect_in "$out" "port=15999 dbname=mallbots " "lab.sh env (the book's database)"
    ok "lab.sh env: chapter 3 -> mallbots_ch03, none -> mallbots, the port from LAB_PG_PORT"

    mkdir -p "$tmp/lab/nats/store/jetstream/\$G/streams/mallbots"
    out=$(LAB_DIR=$tmp/lab scripts/lab.sh reset-stream 2>&1) || fail "lab.sh reset-stream: $out"
    [[ ! -e $tmp/lab/nats/store ]] || fail "lab.sh reset-stream left the store: $out"
    expect_in "$out" "nats: store $tmp/lab/nats/store deleted" "lab.sh reset-stream"
    ok "lab.sh reset-stream deletes the store of a stopped nats-server and leaves it stopped"

    scripts/run-chapter.sh check 3 || fail "run-chapter.sh check 3"
    out=$(scripts/run-chapter.sh check 02 2>&1) && fail "check 02 succeeded"
    expect_in "$out" "chapter 02 is design material and has no program" "check 02"
    out=$(scripts/run-chapter.sh check 99 2>&1) && fail "check 99 succeeded"
    expect_in "$out" "there is no chapter 99" "check 99"
    out=$(make -s run CH=02 2>&1) && fail "make run CH=02 succeeded"
    expect_in "$out" "chapter 02 is design material" "make run CH=02"
    expect_not_in "$out" "lab:" "make run CH=02 must not start the lab"
    ok "chapters: 3 is 03; 02 has no program; 99 does not exist; make run checks before the lab"

    export EXERCISES_WORK=$tmp/work
    local mine=$EXERCISES_WORK/ch03/01-basket-rules
    mkdir -p "$mine/baskets" && echo "my work" > "$mine/baskets/domain.c"
    out=$(make -s exercise-reset 2>&1) && fail "make exercise-reset without CH and EX succeeded"
    expect_in "$out" "usage: make exercise-reset CH=NN EX=N" "exercise-reset without arguments"
    out=$(make -s exercise-reset CH=3 2>&1) && fail "make exercise-reset without EX succeeded"
    [[ $(cat "$mine/baskets/domain.c") == "my work" ]] || fail "exercise-reset without EX touched the work"
    out=$(make -s exercise-reset CH=3 EX=1 2>&1) || fail "make exercise-reset CH=3 EX=1: $out"
    [[ ! -e $mine ]] || fail "exercise-reset left $mine"
    local saved=("$mine".saved-*)
    [[ ${#saved[@]} -eq 1 && $(cat "${saved[0]}/baskets/domain.c") == "my work" ]] ||
        fail "exercise-reset did not keep the work: ${saved[*]}"
    expect_in "$out" "your files are kept in ${saved[0]}/" "exercise-reset's message"
    ok "exercise-reset: needs CH and EX, moves the work to $(basename "${saved[0]}")"

    out=$(scripts/embed-sql.sh /dev/null 2>&1) && fail "embed-sql.sh without --chapter succeeded"
    out=$(scripts/embed-sql.sh --chapter 07 chapters/03-modular-monolith/migrations/001_common.sql)
    expect_in "$out" 'const char chapter_id[] = "07";' "embed-sql.sh --chapter 07"
    ok "embed-sql.sh records the chapter"
}

# report FIXTURE NN [awk -v args...]: the report of a recorded test output of chapter NN
report() {
    local fixture=$1 nn=$2
    shift 2
    printf 'tests/exercise/test_record_events.c\tchapters/04-x/exercises/01-y/test_record_events.c\n' > "$tmp/map"
    printf 'tests/exercise/test_basket_rules.c\tchapters/03-x/exercises/01-y/test_basket_rules.c\n' >> "$tmp/map"
    printf 'baskets/domain.c\texercises-work/ch03/01-y/baskets/domain.c\n' >> "$tmp/map"
    awk -v prefix="build/ex/ch$nn/src/" -v map="$tmp/map" -v pwd=/home/learner/mallbots \
        -v mine=exercises-work/ch03/01-y -v logfile=LOG "$@" -f scripts/exercise-report.awk \
        "tests/scripts/fixtures/report-$fixture.txt"
}

part_report() {
    local out
    out=$(report fail 04 -v ex=04.1 -v rc=1 -v details=2 -v lines=2)
    expect_in "$out" "  FAIL   create_records_shopping_list_created
          depot_shopping_list_create(&list, \"list-1\", \"order-1\", err)
              wanted: CORE_OK (no error)
              got:    error CORE_ERR_INTERNAL \"TODO(exercise 04.1): record depot.ShoppingListCreated\"
          at chapters/04-x/exercises/01-y/test_record_events.c:162
  FAIL   complete_records_shopping_list_completed
          error: the events the shopping list holds: wanted \"depot.ShoppingListCompleted\", got \"\"
          at chapters/04-x/exercises/01-y/test_record_events.c:178
  FAIL   assign_records_shopping_list_assigned
  FAIL   cancel_records_shopping_list_canceled_from_each_open_status
  ok     a_broken_rule_changes_nothing_and_records_nothing" "grouped by test, wanted/got kept whole"
    expect_in "$out" "(the details of 4 more failing test(s) are in LOG)" "details limit"
    expect_not_in "$out" "build/ex/" "paths of the build copy"
    expect_not_in "$out" "[  " "cmocka's own lines"
    [[ $(tail -n 1 <<< "$out") == "exercise 04.1: 1 of 7 checks pass; next: create_records_shopping_list_created (details above)" ]] ||
        fail "summary line: $(tail -n 1 <<< "$out")"
    ok "report: tests one by one, wanted/got whole, chapter paths, one-line summary"

    out=$(report crash 03 -v ex=03.1 -v rc=1)
    expect_in "$out" "  CRASH  cancel_an_open_basket_makes_it_cancelled
          ERROR: AddressSanitizer: heap-buffer-overflow
            #0 in baskets_basket_cancel exercises-work/ch03/01-y/baskets/domain.c:144" "a crash"
    expect_not_in "$out" "Shadow byte" "sanitizer noise"
    expect_not_in "$out" "libcmocka" "frames outside the learner's and the chapter's files"
    [[ $(tail -n 1 <<< "$out") == "exercise 03.1: 0 of 26 checks pass; next: cancel_an_open_basket_makes_it_cancelled (it crashed, details above)" ]] ||
        fail "crash summary: $(tail -n 1 <<< "$out")"
    ok "report: a sanitizer crash points at the learner's file"

    out=$(report setup 03 -v ex=03.2 -v rc=1)
    expect_in "$out" "  before the tests:
          error: this exercise needs PostgreSQL" "a group setup that failed"
    [[ $(tail -n 1 <<< "$out") == "exercise 03.2: 0 of 12 checks pass; next: the tests could not start (details above)" ]] ||
        fail "setup summary: $(tail -n 1 <<< "$out")"
    ok "report: tests that could not start"
}

# A scratch database with schema_migrations rows as chapter ORIGIN recorded them.
scratch_db() { # n origin names...
    local db=e2e_learner_$$_$1 origin=$2
    shift 2
    scripts/lab.sh reset-db "$db" > /dev/null || fail "lab.sh reset-db $db"
    local sql="CREATE TABLE public.schema_migrations (name text PRIMARY KEY,
               applied_at timestamptz NOT NULL DEFAULT now(), origin text);" name
    for name in "$@"; do sql+="INSERT INTO public.schema_migrations (name, origin) VALUES ('$name', '$origin');"; done
    scripts/lab.sh psql -X -q -d "$db" -v ON_ERROR_STOP=1 -c "$sql" > /dev/null || fail "preparing $db"
    echo "$db"
}
drop_db() { scripts/lab.sh psql -X -q -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" > /dev/null; }

part_databases() {
    local db out rc
    eval "$(scripts/lab.sh env)"
    conn() { echo "host=127.0.0.1 port=$LAB_PG_PORT dbname=$1 user=mallbots_user password=mallbots_pass"; }
    # ports of its own, in case a program does start (the bug this checks): it then times out
    WEB_PORT=$(free_port $((LAB_PG_PORT + 301))) || exit 1
    RPC_PORT=$(free_port $((WEB_PORT + 1))) || exit 1
    export WEB_PORT RPC_PORT

    db=$(scratch_db 1 "chapter 05" 001_common.sql 008_event_sourcing.sql) || exit 1
    out=$(PG_CONN=$(conn "$db") LOG_LEVEL=INFO timeout 20 build/san/ch03/mallbots 2>&1)
    rc=$?
    drop_db "$db"
    ((rc == 1)) || fail "chapter 03 on chapter 05's database: exit $rc, wanted 1: $out"
    expect_in "$out" "ERROR monolith: start-up failed: database \"$db\" was migrated by chapter 05: chapter 03 does not know its migration 008_event_sourcing.sql; fix: unset PG_CONN (make run CH=03 uses database mallbots_ch03) or empty this one: make lab-reset-db DB=$db (deletes its data)" "chapter 03 on chapter 05's database"
    [[ $(grep -c 'ERROR' <<< "$out") == 1 ]] || fail "one line, wanted: $out"
    ok "chapter 03 refuses a database chapter 05 migrated, in one line with the fix"

    db=$(scratch_db 2 "chapter 03" 001_common.sql 002_baskets.sql) || exit 1
    out=$(PG_CONN=$(conn "$db") LOG_LEVEL=INFO timeout 20 build/san/ch05/mallbots 2>&1)
    rc=$?
    local left
    left=$(scripts/lab.sh psql -X -qAt -d "$db" -c "SELECT count(*) FROM public.schema_migrations")
    drop_db "$db"
    ((rc == 1)) || fail "chapter 05 on chapter 03's database: exit $rc, wanted 1: $out"
    expect_in "$out" "database \"$db\" was migrated by chapter 03: chapter 05 does not take over another program's database" "chapter 05 on chapter 03's database"
    [[ $left == 2 ]] || fail "chapter 05 changed chapter 03's database: $left migrations recorded"
    ok "chapter 05 does not take over (and does not change) a database chapter 03 migrated"

    db=$(scratch_db 3 "chapter 03" 001_common.sql) || exit 1
    scripts/lab.sh reset-db "$db" > /dev/null || fail "reset-db"
    out=$(scripts/lab.sh psql -X -qAt -d "$db" -c "SELECT to_regclass('public.schema_migrations') IS NULL")
    drop_db "$db"
    [[ $out == t ]] || fail "reset-db left the tables of $db"
    ok "lab.sh reset-db empties a database"
}

part_exercise_env() {
    local port out
    port=$(free_port $((${LAB_PG_PORT:-15432} + 101))) || exit 1
    out=$(env -u PG_CONN -u NATS_URL LAB_PG_PORT="$port" EXERCISES_WORK="$tmp/work" \
        scripts/exercise.sh run 03 2 2>&1)
    expect_in "$out" "port $port failed" "exercise 03.2 with LAB_PG_PORT=$port"
    [[ $(tail -n 1 <<< "$out") == "exercise 03.2: 0 of 12 checks pass; next: the tests could not start (details above)" ]] ||
        fail "summary: $(tail -n 1 <<< "$out")"
    ok "exercise 03.2 connects to LAB_PG_PORT=$port (from scripts/lab.sh env)"
}

case ${1:-} in
    offline) part_offline ;;
    report) part_report ;;
    databases) part_databases ;;
    exercise-env) part_exercise_env ;;
    *)
        sed -n '2,/^set -uo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
esac
