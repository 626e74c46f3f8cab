#!/usr/bin/env bash
# test_chapter_sh.sh -- tests of scripts/chapter.sh on a small made-up workspace: patches apply,
# a change to an earlier chapter reaches the later ones, check fails on what it must, carry turns
# whole shadows into patches and stops on a conflict with markers. Prints one line per check;
# exits non-zero when one fails. Run by scripts/test.sh.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fails=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }
expect() { # description command... : the command must succeed
    local what=$1; shift
    if "$@" > "$W/out" 2>&1; then ok "$what"; else bad "$what"; sed 's/^/     /' "$W/out"; fi
}
expect_fail() { # description command... : the command must fail
    local what=$1; shift
    if "$@" > "$W/out" 2>&1; then bad "$what (it succeeded)"; sed 's/^/     /' "$W/out"; else ok "$what"; fi
}
cs() { "$W/scripts/chapter.sh" "$@"; }

mkdir -p "$W/scripts" "$W/chapters/03-a/m" "$W/chapters/04-b/m" "$W/chapters/05-c/m"
cp "$REPO/scripts/chapter.sh" "$W/scripts/"
seq 1 40 | sed 's/^/line /' > "$W/chapters/03-a/m/f.c"
echo "kept" > "$W/chapters/03-a/m/g.c"
# chapter 04 changes line 10, chapter 05 changes line 30 (as whole files first)
sed 's/^line 10$/line 10 (ch04)/' "$W/chapters/03-a/m/f.c" > "$W/chapters/04-b/m/f.c"
sed 's/^line 30$/line 30 (ch05)/' "$W/chapters/04-b/m/f.c" > "$W/chapters/05-c/m/f.c"
echo "new in 05" > "$W/chapters/05-c/m/h.c"

expect_fail "check fails on whole files that shadow an earlier chapter's" cs check
grep -q 'chapters/04-b/m/f.c: a whole file' "$W/out" && ok "check names the file" || bad "check names the file"
expect "carry turns whole shadows into patches" cs carry
[[ -f $W/chapters/04-b/m/f.c.patch && ! -f $W/chapters/04-b/m/f.c && -f $W/chapters/05-c/m/f.c.patch ]] &&
    ok "the chapter folders hold patches" || bad "the chapter folders hold patches"
[[ -f $W/chapters/05-c/m/h.c ]] && ok "a new file stays whole" || bad "a new file stays whole"
expect "check passes after carry" cs check
cs sync 05 "$W/t05" && grep -q 'line 10 (ch04)' "$W/t05/m/f.c" && grep -q 'line 30 (ch05)' "$W/t05/m/f.c" &&
    ok "chapter 05 resolves with both chapters' changes" || bad "chapter 05 resolves with both chapters' changes"

# a one-line change to chapter 03, away from the later chapters' lines, reaches 04 and 05 at once
sed -i 's/^line 20$/line 20 (fixed in 03)/' "$W/chapters/03-a/m/f.c"
expect "check passes after a change far from the later chapters' lines" cs check
cs sync 05 "$W/t05" && grep -q 'line 20 (fixed in 03)' "$W/t05/m/f.c" && grep -q 'line 30 (ch05)' "$W/t05/m/f.c" &&
    ok "the change to chapter 03 is in chapter 05 at once" || bad "the change to chapter 03 is in chapter 05 at once"

# a change on the very line chapter 04 changes: check fails, carry stops with markers
sed -i 's/^line 10$/line 10 (fixed in 03)/' "$W/chapters/03-a/m/f.c"
expect_fail "check fails when a patch no longer applies" cs check
grep -q '04-b/m/f.c.patch: no longer applies' "$W/out" && ok "check names the patch" || bad "check names the patch"
expect_fail "sync of a chapter whose patch does not apply fails" cs sync 04 "$W/t04"
expect_fail "carry stops on the conflict" cs carry
grep -q 'chapters/04-b/m/f.c' "$W/out" && ok "carry lists the file to resolve" || bad "carry lists the file to resolve"
grep -q '^<<<<<<<' "$W/chapters/04-b/m/f.c" && ok "the conflict is marked in chapter 04's file" ||
    bad "the conflict is marked in chapter 04's file"
expect_fail "check fails while markers are left" cs check
# resolve: keep both changes
sed -i '/^<<<<<<<\|^|||||||\|^=======\|^>>>>>>>/d; /^line 10$/d; /^line 10 (fixed in 03)$/d' "$W/chapters/04-b/m/f.c"
expect "carry goes on after the conflict is resolved" cs carry
expect "check passes after resolving" cs check
cs sync 05 "$W/t05" && grep -q 'line 10 (ch04)' "$W/t05/m/f.c" && grep -q 'line 30 (ch05)' "$W/t05/m/f.c" &&
    ok "chapter 05 still has every change" || bad "chapter 05 still has every change"

# a patch that changes nothing, and a byte copy, are named
cp "$W/t05/m/g.c" "$W/chapters/05-c/m/g.c"
expect_fail "check fails on a byte copy" cs check
grep -q 'a byte copy' "$W/out" && ok "check says it is a copy" || bad "check says it is a copy"
rm "$W/chapters/05-c/m/g.c"

# make lesson: the tour's order first, tests left out and counted
mkdir -p "$W/chapters/05-c/tests"
echo "int t;" > "$W/chapters/05-c/tests/t.c"
printf '# c\n\n## 3. A tour of the change\n\n1. [h.c](m/h.c)\n2. [f.c](m/f.c.patch)\n\n## 4. Why\n' > "$W/chapters/05-c/README.md"
cs lesson 05 > "$W/lesson" 2>&1
order=$(grep '^+++ ' "$W/lesson" | awk '{print $2}' | tr '\n' ' ')
[[ $order == "b/m/h.c b/m/f.c " ]] && ok "lesson follows the tour's order" || bad "lesson follows the tour's order (got: $order)"
grep -q 'tests/t.c' "$W/lesson" && bad "lesson leaves the tests out" || ok "lesson leaves the tests out"
grep -q 'left out: 1 test files, 1 test lines' "$W/lesson" && ok "lesson counts the test lines" || bad "lesson counts the test lines"

# runnable / newest: a chapter with a cmd/ folder is runnable however many files sort after cmd/
# (the check once stopped reading at cmd/, and under pipefail the writer's SIGPIPE made a
# runnable chapter look like none, now and then): 1,200 files after cmd/ are twice what a pipe
# buffers, so the old reader made the writer die
mkdir -p "$W/chapters/05-c/cmd/p" "$W/chapters/05-c/z"
echo "int main(void) { return 0; }" > "$W/chapters/05-c/cmd/p/main.c"
for i in $(seq 1 1200); do : > "$W/chapters/05-c/z/file-with-a-long-name-$i.c"; done
runs=0 newest=0
for i in $(seq 1 10); do
    cs runnable 05 > /dev/null 2>&1 && runs=$((runs + 1))
    [[ $(cs newest 2> /dev/null) == 05 ]] && newest=$((newest + 1))
done
((runs == 10)) && ok "runnable finds cmd/ every time" || bad "runnable finds cmd/ every time ($runs of 10)"
((newest == 10)) && ok "newest is the chapter with cmd/ every time" ||
    bad "newest is the chapter with cmd/ every time ($newest of 10)"
expect_fail "a chapter without cmd/ is not runnable" cs runnable 04

echo "$fails failed"
((fails == 0))
