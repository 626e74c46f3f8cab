# exercise-report.awk -- turns the raw output of an exercise's cmocka tests into the report that
# scripts/exercise.sh prints: one line per test (ok / FAIL / CRASH), under each failing test the
# lines it printed (each "wanted:" with its "got:"), paths pointing at files the learner can open,
# and a last line "exercise NN.K: P of N checks pass; next: ...".
#
# Variables (awk -v):
#   ex       "03.1"
#   prefix   the build copy's source folder, e.g. "build/ex/ch03/src/"
#   map      a file of "relative-path<TAB>path to show" lines (the learner's files, the exercise's
#            tests, the chapter's files)
#   pwd      the repository's absolute path (absolute paths are shown relative to it)
#   mine     the learner's folder for this exercise (exercises-work/chNN/KK-title)
#   logfile  where the raw output is kept (for details that are not shown)
#   rc       the exit status of the test run (0 = every test program succeeded)
#   details  for how many failing tests to show the details (default 5)
#   lines    at most this many detail lines per test (default 14)

function replace_all(s, from, to,    out, i) {
    out = ""
    while (from != "" && (i = index(s, from)) > 0) {
        out = out substr(s, 1, i - 1) to
        s = substr(s, i + length(from))
    }
    return out s
}

# Every "<prefix><relative path>" in s becomes the path in the map.
function map_paths(s,    out, i, rest, n, c, rel) {
    s = replace_all(s, pwd "/", "")
    out = ""
    while ((i = index(s, prefix)) > 0) {
        out = out substr(s, 1, i - 1)
        rest = substr(s, i + length(prefix))
        for (n = 1; n <= length(rest); n++) {
            c = substr(rest, n, 1)
            if (c == " " || c == ":" || c == ")" || c == "'" || c == "\"" || c == ",")
                break
        }
        rel = substr(rest, 1, n - 1)
        out = out ((rel in M) ? M[rel] : prefix rel)
        s = substr(rest, n)
    }
    return out s
}

function add_line(text) {
    if (cur) {
        det[cur, ++ndet[cur]] = text
    } else {
        gen[++ngen] = text
        gen_when[ngen] = ntests == 0 ? "before" : "after"
    }
}

# Sanitizer reports: keep the headline, the frames in files the learner can open, the summary.
function sanitizer_line(line) {
    if (line ~ /^==[0-9]+==/)
        sub(/^==[0-9]+==/, "", line)
    if (line ~ /^ *#[0-9]+ /) { # a frame: only those in the learner's or the chapter's files
        line = map_paths(line)
        if (index(line, "chapters/") == 0 && (mine == "" || index(line, mine) == 0))
            return
        if (++frames > 3 || line ~ / in main /)
            return
        sub(/ 0x[0-9a-f]+ in /, " in ", line)
        sub(/^ +/, "  ", line)
        add_line(line)
        return
    }
    if (line ~ /Sanitizer|SUMMARY|runtime error|leak of|by thread T[0-9]+ here:/) {
        frames = 0
        sub(/ on (unknown )?address 0x[0-9a-f]+.*/, "", line)
        add_line(map_paths(line))
    }
}

BEGIN {
    if (details == "") details = 5
    if (lines == "") lines = 14
    while ((getline l < map) > 0) {
        t = index(l, "\t")
        M[substr(l, 1, t - 1)] = substr(l, t + 1)
    }
    cur = 0; ntests = 0; total = 0; ngen = 0; in_san = 0; setup_failed = 0
}

/^\[==========\] Running [0-9]+ test/ { total += $3; next }
/^\[==========\]/ || /^\[  PASSED  \]/ || /^ [0-9]+ FAILED TEST/ || /^\[  SKIPPED \]/ { next }
/^\[ RUN      \] / {
    name[++ntests] = substr($0, 14); status[ntests] = "CRASH"; cur = ntests; in_san = 0; next
}
/^\[       OK \] / { if (cur) status[cur] = "ok"; cur = 0; next }
/^\[  FAILED  \] / {
    rest = substr($0, 14)
    if (cur && rest == name[cur]) status[cur] = "FAIL"
    else if (rest ~ /^GROUP SETUP/) setup_failed = 1
    cur = 0; next
}
/^\[  ERROR   \] / || /^\[   LINE   \] / {
    if (!cur) next
    line = $0
    if ((i = index(line, "[   LINE   ] --- ")) > 0) {
        at = substr(line, i + 17); sub(/: error: Failure!$/, "", at)
        if ((j = index(line, "[  ERROR   ] --- ")) == 1 && i > 18) add_line(substr(line, 18, i - 18))
        add_line("at " map_paths(at))
    } else {
        sub(/^\[  ERROR   \] --- /, "", line)
        if (line != "") add_line(map_paths(line))
    }
    next
}
/Sanitizer|^==[0-9]+==|^SUMMARY: / { in_san = 1 }
{
    if ($0 ~ /^[ \t]*$/ || $0 ~ /^=+$/) next
    if (in_san || $0 ~ /runtime error:/) { sanitizer_line($0); next }
    line = $0
    gsub(/\t/, "    ", line)
    add_line(map_paths(line))
}

function print_details(t,    n, shown, last_at) {
    n = ndet[t]
    last_at = det[t, n] ~ /^at / # where the test failed: always shown
    shown = n > lines ? lines : n
    if (shown < n && det[t, shown] ~ /^ *wanted:/) shown++ # keep the pair whole
    for (k = 1; k <= shown; k++) print "          " det[t, k]
    if (shown < n - last_at) printf "          (%d more line(s) in %s)\n", n - last_at - shown, logfile
    if (shown < n && last_at) print "          " det[t, n]
}

END {
    pass = 0; failing = 0; first = 0
    for (t = 1; t <= ntests; t++) {
        if (status[t] == "ok") { pass++; printf "  ok     %s\n", name[t]; continue }
        failing++
        if (!first) first = t
        printf "  %-6s %s\n", status[t], name[t]
        if (failing <= details) print_details(t)
    }
    if (failing > details)
        printf "  (the details of %d more failing test(s) are in %s)\n", failing - details, logfile
    cut = 0
    for (g = 1; g <= ngen; g++) {
        if (g == 1 || gen_when[g] != gen_when[g - 1]) {
            print "  " (gen_when[g] == "before" ? "before the tests:" : "after the tests:")
            shown = 0
        }
        if (++shown <= lines || (shown == lines + 1 && gen[g - 1] ~ /^ *wanted:/))
            print "          " gen[g]
        else
            cut++
    }
    if (cut) printf "          (%d more line(s) in %s)\n", cut, logfile
    if (total < ntests) total = ntests
    if (rc == 0 && failing == 0) {
        printf "exercise %s: %d of %d checks pass: done.\n", ex, pass, total
    } else if (first) {
        printf "exercise %s: %d of %d checks pass; next: %s (%s)\n", ex, pass, total, name[first],
            status[first] == "CRASH" ? "it crashed, details above" : "details above"
    } else if (setup_failed || ntests == 0) {
        printf "exercise %s: 0 of %d checks pass; next: the tests could not start (details above)\n",
            ex, total
    } else {
        printf "exercise %s: %d of %d checks pass, but the test program failed after them (details above)\n",
            ex, pass, total
    }
}
