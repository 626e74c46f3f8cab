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
#                                    with the learner's files in place, runs the tests and reports
#                                    them one by one (scripts/exercise-report.awk), ending with
#                                    "exercise NN.K: P of N checks pass; next: ..."
#   exercise.sh reset NN K           moves the learner's work area for that exercise aside (to
#                                    KK-title.saved-DATE-TIME) so the next run starts from the starter
#   exercise.sh verify NN K          proves the exercise honest: its tests pass on the reference
#                                    solution and FAIL on the untouched starter (used by make test)
# NN may be given as 3 or 03. Tests that need the lab take its settings from `scripts/lab.sh env`
# (LAB_PG_PORT, ...) unless PG_CONN / NATS_URL are set.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
WORK=${EXERCISES_WORK:-exercises-work}

die() { echo "exercise: $*" >&2; exit 2; }

# The lab's settings, from the one place that knows them; the user's PG_CONN / NATS_URL win.
lab_env() {
    local user_pg=${PG_CONN:-} user_nats=${NATS_URL:-} lab
    lab=$(scripts/lab.sh env) || die "scripts/lab.sh env failed"
    eval "$lab"
    PG_CONN=${user_pg:-$PG_CONN} NATS_URL=${user_nats:-$NATS_URL}
    export PG_CONN NATS_URL
}

# "3" or "ch03" -> "03"; K -> a number
norm_nn() {
    local n=${1#ch}
    [[ $n =~ ^[0-9]{1,2}$ ]] || die "'$1' is not a chapter number (make exercises lists them)"
    printf '%02d' "$((10#$n))"
}
norm_k() {
    [[ $1 =~ ^[0-9]{1,2}$ ]] || die "'$1' is not an exercise number (make exercises lists them)"
    echo "$((10#$1))"
}

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

# A chapter's first exercise build starts from make test's sanitizer build of the chapter
# (build/san/chNN, compiled from build/chNN/src) when there is one: the tree and the objects are
# copied with their times and the objects' dependency lists are pointed at the copies, so that only
# the files the overlay swaps (and what includes them) compile. make still decides by the times:
# a source newer than its object compiles again, as in any incremental build.
seed_from_san() { # NN OUT
    local nn=$1 out=$2 san=build/san/ch$1 tree=build/ch$1/src
    [[ -e $out || ! -d $san/obj || ! -d $san/gen || ! -d $tree ]] && return 0
    mkdir -p "$out"
    cp -a "$tree" "$out/src" && cp -a "$san/obj" "$san/gen" "$out/" || { rm -rf "$out"; return 0; }
    find "$out/obj" -name '*.d' -exec sed -i "s|build/san/ch$nn/|$out/|g; s|build/ch$nn/src/|$out/src/|g" {} +
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
    seed_from_san "$nn" "$out"
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
ids) ids "$(norm_nn "${2:?chapter}")" ;;
run)
    nn=$(norm_nn "${2:?chapter}"); k=$(norm_k "${3:?exercise}")
    d=$(ex_dir "$nn" "$k")
    mine=$WORK/ch$nn/$(basename "$d")
    echo "exercise $nn.$k: $(head -1 "$d/README.md" | sed 's/^# *//') -- instructions: $d/README.md"
    if [[ ! -d $mine ]]; then
        mkdir -p "$mine"
        scripts/chapter.sh starter "$nn" "$d" "$mine"
        echo "your files (the starter, copied now; edit them there):"
    else
        echo "your files (kept from last time; make exercise-reset CH=$nn EX=$k starts over):"
    fi
    (cd "$mine" && find . -type f | sort | sed 's|^\./|  '"$mine"'/|')
    lab_env
    mkdir -p build/ex
    log=build/ex/ch$nn-build.log
    # paths of the build copy (build/ex/chNN/src/...) -> the files a learner can open
    map=build/ex/ch$nn-paths.txt
    {
        scripts/chapter.sh resolve "$nn" | while IFS=$'\t' read -r rel src; do
            if [[ -f $mine/$rel ]]; then printf '%s\t%s\n' "$rel" "$mine/$rel"; else printf '%s\t%s\n' "$rel" "$src"; fi
        done
        for t in "$d"/test_*.c; do printf 'tests/exercise/%s\t%s\n' "$(basename "$t")" "$t"; done
    } > "$map"
    report() { # rc -> the report of the raw test output on stdin
        awk -v ex="$nn.$k" -v prefix="build/ex/ch$nn/src/" -v map="$map" -v pwd="$PWD" \
            -v mine="$mine" -v logfile="$tlog" -v rc="$1" -f scripts/exercise-report.awk
    }
    echo "building chapter $nn with your files..."
    if ! build_with "$nn" "$d" "$mine" "$log"; then
        echo "exercise $nn.$k: your version does not build yet (all of it: $log):"
        grep -aE 'error|warning' "$log" | head -20 |
            awk -v prefix="build/ex/ch$nn/src/" -v map="$map" -v pwd="$PWD" -v mine="$mine" \
                'BEGIN { while ((getline l < map) > 0) { t = index(l, "\t"); M[substr(l, 1, t - 1)] = substr(l, t + 1) } }
                 { i = index($0, prefix); if (i) { r = substr($0, i + length(prefix)); j = index(r, ":"); rel = substr(r, 1, j - 1)
                   if (j && rel in M) $0 = substr($0, 1, i - 1) M[rel] substr(r, j) } print "  " $0 }'
        exit 1
    fi
    tlog=build/ex/ch$nn-tests.log
    run_tests "$nn" > "$tlog" 2>&1 && rc=0 || rc=$?
    report "$rc" < "$tlog"
    if ((rc == 0)); then
        echo "Compare your version with the chapter's:"
        (cd "$mine" && find . -type f | sort | sed 's|^\./||') | while read -r rel; do
            echo "  $(scripts/chapter.sh resolve "$nn" | awk -F'\t' -v r="$rel" '$1 == r { print $2 }')"
        done
    fi
    exit "$rc" ;;
reset)
    nn=$(norm_nn "${2:?chapter}"); k=$(norm_k "${3:?exercise}")
    d=$(ex_dir "$nn" "$k")
    mine=$WORK/ch$nn/$(basename "$d")
    if [[ ! -d $mine ]]; then
        echo "exercise $nn.$k: nothing to reset ($mine does not exist); make exercise CH=$nn EX=$k starts it."
        exit 0
    fi
    saved=$mine.saved-$(date +%Y%m%d-%H%M%S)
    mv "$mine" "$saved"
    echo "exercise $nn.$k: reset; your files are kept in $saved/"
    echo "the next make exercise CH=$nn EX=$k starts from the starter again." ;;
verify)
    nn=$(norm_nn "${2:?chapter}"); k=$(norm_k "${3:?exercise}")
    d=$(ex_dir "$nn" "$k")
    lab_env
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
*) sed -n '2,/^set -euo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
