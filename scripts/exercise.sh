#!/usr/bin/env bash
# exercise.sh -- guided exercises: a starter version of some chapter files with the interesting
# bodies replaced by TODOs, plus tests that check the learner's version.
#
# An exercise lives in chapters/NN-name/exercises/KK-title/:
#   README.md        what to build, hints, which part of the book (first line: "# title")
#   starter/<path>.patch  the starter version of a chapter file, as a patch on the chapter's
#                    <path> (scripts/chapter.sh keeps it in step with the chapter: make carry)
#   test_*.c         the exercise's cmocka tests (built against the chapter with the files in place)
#
#   exercise.sh list                 all exercises of all chapters
#   exercise.sh ids NN               the exercise numbers of chapter NN
#   exercise.sh run NN K             copies the starter into exercises-work/chNN/KK-title/ on first
#                                    use (never overwriting the learner's files), builds the chapter
#                                    with the learner's files in place, runs the tests, tells what
#                                    passes and what is still missing
#   exercise.sh reset NN K           deletes the learner's work area for that exercise
#   exercise.sh verify NN K          proves the exercise honest: its tests pass on the reference
#                                    solution and FAIL on the untouched starter (used by make test)
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
WORK=${EXERCISES_WORK:-exercises-work}

die() { echo "exercise: $*" >&2; exit 2; }

ex_dir() { # NN K -> exercise folder
    local cdir d k
    cdir=$(scripts/chapter.sh dir "$1")
    k=$(printf '%02d' "$((10#$2))")
    for d in "$cdir"/exercises/"$k"-*/; do [[ -d $d ]] && { echo "${d%/}"; return 0; }; done
    die "chapter $1 has no exercise $2 (make exercises lists them)"
}

ids() {
    local cdir d
    cdir=$(scripts/chapter.sh dir "$1")
    for d in "$cdir"/exercises/[0-9][0-9]-*/; do
        [[ -d $d ]] && basename "$d" | cut -c1-2 | sed 's/^0//'
    done
}

# Builds chapter NN with an overlay (starter or learner files + the exercise tests) in a build
# directory shared by the chapter's exercises, so that only the swapped files recompile.
build_with() { # NN exdir files-dir(or "") log -> prints the test binaries
    local nn=$1 exdir=$2 files=$3 log=$4 overlay
    overlay=$(mktemp -d)
    [[ -n $files ]] && cp -r "$files"/. "$overlay"/
    mkdir -p "$overlay/tests/exercise"
    cp "$exdir"/test_*.c "$overlay/tests/exercise/"
    local out=build/ex/ch$nn
    rm -rf "$out/tests/exercise" # binaries of another exercise of this chapter
    scripts/chapter.sh sync "$nn" "$out/src" "$overlay"
    rm -rf "$overlay"
    make -j"$JOBS" -f mk/core.mk OUT=build/san/core SAN=1 all tests > "$log" 2>&1 &&
        make -j"$JOBS" -f mk/chapter.mk SRC="$out/src" OUT="$out" CORE=build/san/core SAN=1 \
            exercise-tests >> "$log" 2>&1
}

run_tests() { # NN -> runs every exercise test binary, output to stdout; exit non-zero on failure
    local rc=0 t
    for t in build/ex/ch"$1"/tests/exercise/test_*; do
        [[ -x $t && $t != *.[od] ]] || continue
        "$t" 2>&1 || rc=1
    done
    return $rc
}

cmd=${1:-}
case $cmd in
list)
    for nn in $(scripts/chapter.sh list); do
        for k in $(ids "$nn"); do
            d=$(ex_dir "$nn" "$k")
            printf 'make exercise CH=%s EX=%s   %s\n' "$nn" "$k" "$(head -1 "$d/README.md" | sed 's/^# *//')"
        done
    done ;;
ids) ids "${2:?chapter}" ;;
run)
    nn=${2:?chapter}; k=${3:?exercise}
    d=$(ex_dir "$nn" "$k")
    mine=$WORK/ch$nn/$(basename "$d")
    if [[ ! -d $mine ]]; then
        mkdir -p "$mine"
        scripts/chapter.sh starter "$nn" "$d" "$mine"
        echo "exercise: starter copied to $mine/ -- edit the files there:"
    else
        echo "exercise: your files (kept from last time; make exercise-reset CH=$nn EX=$k starts over):"
    fi
    (cd "$mine" && find . -type f | sed 's|^\./|  '"$mine"'/|')
    echo "exercise: instructions: $d/README.md"
    mkdir -p build/ex
    log=build/ex/ch$nn-build.log
    # compiler messages name the copy in build/ex/...; point them at the learner's own files
    to_mine() { sed "s|build/ex/ch$nn/src/\($(cd "$mine" && find . -type f | sed 's|^\./||' | paste -sd'|' | sed 's/|/\\|/g')\)|$mine/\1|g"; }
    if ! build_with "$nn" "$d" "$mine" "$log"; then
        echo "exercise: your version does not build yet:"
        grep -aE 'error|warning' "$log" | head -20 | to_mine
        exit 1
    fi
    out=$(run_tests "$nn") && rc=0 || rc=$?
    # one line per test (cmocka repeats failures in its summary), then the totals
    echo "$out" | grep -aE '^\[ +(OK|FAILED) +\] [A-Za-z_]' | awk '!seen[$0]++' | sed 's/^/  /'
    echo "$out" | grep -aE '^\[ +(PASSED|FAILED) +\] [0-9]' | sed 's/^/  /'
    if ((rc == 0)); then
        echo "exercise $nn.$k: all tests pass -- well done. Compare with the chapter's version: $(scripts/chapter.sh dir "$nn")/"
    else
        echo "exercise $nn.$k: not done yet -- the FAILED tests above say what is still missing."
        echo "$out" | grep -aE 'error|Error|assert|Sanitizer|SUMMARY' | head -10 | to_mine | sed 's/^/  /'
    fi
    exit $rc ;;
reset)
    nn=${2:?chapter}; k=${3:?exercise}
    d=$(ex_dir "$nn" "$k")
    rm -rf "${WORK:?}/ch$nn/$(basename "$d")"
    echo "exercise $nn.$k: reset; the next make exercise CH=$nn EX=$k starts from the starter." ;;
verify)
    nn=${2:?chapter}; k=${3:?exercise}
    d=$(ex_dir "$nn" "$k")
    [[ -d $d/starter ]] || die "$d has no starter/ folder"
    compgen -G "$d/test_*.c" > /dev/null || die "$d has no test_*.c"
    mkdir -p build/ex
    log=build/ex/ch$nn-verify.log
    echo "reference solution: building..."
    build_with "$nn" "$d" "" "$log" || { cat "$log" | grep -aE 'error' | head; die "reference build failed"; }
    if ! run_tests "$nn" > "$log.ref" 2>&1; then
        cat "$log.ref"; die "the tests FAIL on the reference solution"
    fi
    echo "reference solution: tests pass"
    echo "untouched starter: building..."
    starter=$(mktemp -d)
    scripts/chapter.sh starter "$nn" "$d" "$starter"
    build_with "$nn" "$d" "$starter" "$log" || { rm -rf "$starter"; grep -aE 'error' "$log" | head; die "the starter does not build (it must, so learners start from green builds and red tests)"; }
    rm -rf "$starter"
    if run_tests "$nn" > "$log.starter" 2>&1; then
        cat "$log.starter"; die "the tests PASS on the untouched starter: they do not check the exercise"
    fi
    echo "untouched starter: tests fail, as they must ($(grep -aE '^\[  FAILED  \] [A-Za-z_]' "$log.starter" | sort -u | wc -l) failing)"
    ;;
*) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
