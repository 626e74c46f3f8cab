#!/usr/bin/env bash
# chapter.sh -- assembles a chapter's complete source tree from the chapter folders.
#
# A chapter folder (chapters/NN-name/) holds only what chapter NN adds or changes:
#   <path>          a file the chapter adds (no earlier chapter has <path>)
#   <path>.patch    the chapter's change to <path> as the chapter before it has it: a unified
#                   diff, applied with no fuzz (offsets are fine), so a change made to <path> in
#                   an earlier chapter reaches every later chapter at once
#   REMOVED         paths the chapter removes, one a line (# comments)
# README.md and exercises/ belong to their own chapter and are never inherited. An exercise's
# starter/ folder holds patches on the chapter's own files in the same way.
#
#   chapter.sh list                    the chapter numbers, oldest first
#   chapter.sh newest                  the newest runnable chapter (one with a cmd/ folder)
#   chapter.sh runnable NN             succeeds when chapter NN is runnable (has a cmd/ folder)
#   chapter.sh dir NN                  the folder of chapter NN
#   chapter.sh resolve NN              "path<TAB>source-file[<TAB>patch...]" for every file of NN
#   chapter.sh sync NN DEST [OVERLAY]  writes the resolved tree to DEST, copying only files that
#                                      changed (so incremental builds stay incremental); files of
#                                      the OVERLAY folder (whole files) replace same-named files
#                                      or are added (used by the exercises)
#   chapter.sh starter NN EXDIR DEST   writes the whole starter files of an exercise to DEST
#   chapter.sh apply FILE PATCH        applies PATCH to FILE in place, as every chapter and
#                                      starter patch is applied (no fuzz); fails if it does not
#   chapter.sh diff NN                 unified diff of chapter NN against chapter NN-1 (without
#                                      the chapters' own README.md and exercises/)
#   chapter.sh check                   fails, naming each file, when a patch no longer applies,
#                                      changes nothing, or a whole file shadows an earlier
#                                      chapter's (make carry turns it into a patch)
#   chapter.sh carry                   brings every chapter up to date, oldest first: whole files
#                                      that shadow an earlier chapter's become patches, patches
#                                      are refreshed; a patch that no longer applies is merged
#                                      into the earlier chapter's new version, and a conflict is
#                                      left as a whole file with <<<<<<< markers to resolve
#   chapter.sh lesson NN               chapter NN's source change as a diff, file by file in the
#                                      reading order of its README's tour; tests are left out
#                                      and counted (diff shows everything)
#   chapter.sh stats                   per chapter: files changed by patches, lines changed,
#                                      unchanged lines the patches carry as context
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "chapter: $*" >&2; exit 2; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

chapters() { # prints "NN<TAB>dir" oldest first
    local d
    for d in chapters/[0-9][0-9]-*/; do
        [[ -d $d ]] || continue
        d=${d%/}
        printf '%s\t%s\n' "$(basename "$d" | cut -c1-2)" "$d"
    done | sort
}

chapter_dir() {
    local nn=$1 n d
    while IFS=$'\t' read -r n d; do [[ $n == "$nn" ]] && { echo "$d"; return 0; }; done < <(chapters)
    die "no chapter $nn (chapters: $(chapters | cut -f1 | tr '\n' ' '))"
}

previous() { # NN -> the chapter number before it, or nothing
    local nn=$1 prev="" n d
    while IFS=$'\t' read -r n d; do [[ $n == "$nn" ]] && break; prev=$n; done < <(chapters)
    echo "$prev"
}

own_files() { # files of one chapter folder, relative, excluding the folder's own control files
    (cd "$1" && find . -type f ! -name REMOVED | sed 's|^\./||' | sort)
}

inherited() { [[ $1 != README.md && $1 != exercises/* ]]; }

resolve() { # NN -> "rel<TAB>src[<TAB>patch...]" lines
    local target=$1 n d rel f
    declare -A map=() patches=()
    chapter_dir "$target" > /dev/null
    while IFS=$'\t' read -r n d; do
        [[ $n > $target ]] && break
        # files inherited from earlier chapters lose README and exercises
        for rel in "${!map[@]}"; do inherited "$rel" || unset "map[$rel]" "patches[$rel]"; done
        if [[ -f $d/REMOVED ]]; then
            while IFS= read -r rel; do
                rel=${rel%%#*}; rel=${rel//[[:space:]]/}
                [[ -z $rel ]] && continue
                [[ -n ${map[$rel]+x} ]] || die "$d/REMOVED: $rel is not in an earlier chapter"
                unset "map[$rel]" "patches[$rel]"
            done < "$d/REMOVED"
        fi
        while IFS= read -r f; do
            if [[ $f == *.patch ]] && inherited "$f"; then
                rel=${f%.patch}
                [[ -n ${map[$rel]+x} ]] || die "$d/$f: no earlier chapter has $rel to patch"
                patches[$rel]+=$'\t'$d/$f
            else
                map[$f]=$d/$f
                unset "patches[$f]"
            fi
        done < <(own_files "$d")
    done < <(chapters)
    for rel in "${!map[@]}"; do printf '%s\t%s%s\n' "$rel" "${map[$rel]}" "${patches[$rel]:-}"; done | sort
}

# apply_patch FILE PATCH: applies PATCH to FILE in place, exactly (no fuzz; offsets are fine).
# Returns non-zero and leaves FILE unchanged when a hunk does not apply.
apply_patch() {
    patch -s -f -F0 --no-backup-if-mismatch -r - "$1" < "$2" > "$TMP/patch.out" 2>&1
}

# materialize OUT SRC [PATCH...]: writes SRC with every PATCH applied to OUT.
materialize() {
    local out=$1 src=$2 p
    shift 2
    cp "$src" "$out"
    for p in "$@"; do
        apply_patch "$out" "$p" || {
            echo "chapter: $p no longer applies ($(head -3 "$TMP/patch.out" | tr '\n' ' '))" >&2
            echo "chapter: run 'make carry' to bring the chapters up to date" >&2
            return 1
        }
    done
}

# put SRC DEST: copies SRC to DEST unless the content is the same (keeps mtimes for make)
put() {
    if ! cmp -s "$1" "$2" 2>/dev/null; then
        mkdir -p "$(dirname "$2")"
        cp "$1" "$2"
    fi
}

# Patched files, once made, are kept in CACHE under a name made of the SHA-1s of their source
# and of each patch (content-addressed: an edited patch or source gives a new name, so an entry
# is never stale). A sync then applies only the patches that changed since the last one, instead
# of a few hundred (chapter 09's tree applies 333). `make clean` removes the cache with build/.
CACHE=${CHAPTER_CACHE:-build/chapter-cache/v2}

# sha1_lines: reads NUL-separated paths, prints "sha1<TAB>path" for each (one process for all)
sha1_lines() { xargs -0 -r sha1sum -- | sed 's/  /\t/'; }

sync_tree() { # NN DEST [OVERLAY]
    local nn=$1 dest=$2 overlay=${3:-} rel src line key i sum path
    local -a parts want=() from=()
    declare -A keep=() sha=() have=()
    mkdir -p "$dest" "$CACHE"
    resolve "$nn" > "$TMP/resolved" || return 1
    # the SHA-1 of every source and patch, in one process
    while IFS=$'\t' read -r sum path; do sha[$path]=$sum; done < <(
        cut -f2- "$TMP/resolved" | tr '\t' '\n' | sort -u | tr '\n' '\0' | sha1_lines)
    # where each file's content comes from: the overlay, the source, or the cache
    while IFS= read -r line; do
        IFS=$'\t' read -r -a parts <<< "$line"
        rel=${parts[0]} src=${parts[1]}
        keep[$rel]=1
        if [[ -n $overlay && -f $overlay/$rel ]]; then
            src=$overlay/$rel
        elif ((${#parts[@]} > 2)); then
            # each step of the chain is an entry of its own, so chapter 09 reuses chapter 08's
            key=${sha[$src]:0:16}
            for ((i = 2; i < ${#parts[@]}; i++)); do
                key+=-${sha[${parts[i]}]:0:16}
                # $CACHE/KEY/NAME: the entry keeps the file's name, so that it is copied with others
                if [[ ! -f $CACHE/$key/${rel##*/} ]]; then
                    materialize "$TMP/file" "$src" "${parts[i]}" || {
                        echo "chapter: cannot resolve $rel of chapter $nn" >&2; return 1; }
                    # another sync may write the same entry at the same time: a rename is atomic
                    mkdir -p "$CACHE/$key" && mv -f "$TMP/file" "$CACHE/$key/.$$" &&
                        mv -f "$CACHE/$key/.$$" "$CACHE/$key/${rel##*/}"
                fi
                src=$CACHE/$key/${rel##*/}
            done
        fi
        want+=("$rel") from+=("$src")
    done < "$TMP/resolved"
    if [[ -n $overlay ]]; then # overlay files that are new to the tree are added too
        while IFS= read -r rel; do
            [[ -n ${keep[$rel]+x} ]] && continue
            keep[$rel]=1
            want+=("$rel") from+=("$overlay/$rel")
        done < <(cd "$overlay" && find . -type f | sed 's|^\./||')
    fi
    # copy only what differs from DEST (unchanged files keep their mtimes, for make): the content
    # of both sides hashed in one process
    while IFS=$'\t' read -r sum path; do have[$path]=$sum; done < <(
        { printf '%s\0' "${from[@]}"; (cd "$dest" && find . -type f -printf '%P\0' | sed -z "s|^|$dest/|"); } |
            sha1_lines)
    # one cp per folder of DEST (a fork costs more than the copy): every source has the name of
    # the file it becomes
    declare -A todo=()
    for ((i = 0; i < ${#want[@]}; i++)); do
        rel=${want[i]} src=${from[i]}
        [[ -n ${have[$dest/$rel]:-} && ${have[$dest/$rel]} == "${have[$src]:-x}" ]] && continue
        [[ ${src##*/} == "${rel##*/}" ]] || die "internal: $src cannot be copied to $rel by name"
        [[ $rel == */* ]] && path=${rel%/*} || path=.
        todo[$path]+=$src$'\n'
    done
    if ((${#todo[@]})); then
        (cd "$dest" && printf '%s\0' "${!todo[@]}" | xargs -0 mkdir -p)
        for path in "${!todo[@]}"; do
            mapfile -t parts < <(printf '%s' "${todo[$path]}")
            cp -t "$dest/$path" -- "${parts[@]}"
        done
    fi
    while IFS= read -r rel; do
        [[ -n ${keep[$rel]+x} ]] || rm -f "$dest/$rel"
    done < <(cd "$dest" && find . -type f | sed 's|^\./||')
}

# make_patch PARENT NEW REL HEADER OUT: writes the patch that turns PARENT into NEW, with HEADER
# as its first line (for a reader who opens the patch in the chapter folder).
make_patch() {
    local parent=$1 new=$2 rel=$3 header=$4 out=$5
    {
        echo "$header"
        diff -u --label "a/$rel" --label "b/$rel" "$parent" "$new" || true
    } > "$TMP/newpatch"
    # keep the stored patch (and its mtime) when nothing changed
    if ! cmp -s "$TMP/newpatch" "$out" 2>/dev/null; then cp "$TMP/newpatch" "$out"; fi
}

# header NN PREV REL STARTER: the first line of a patch
header() {
    if [[ -n ${4:-} ]]; then
        echo "Exercise starter: chapter $1's $3 with the exercise's parts taken out (make exercise writes it whole)."
    else
        echo "Chapter $1 changes chapter $2's $3. The whole file: make tree CH=$1, then build/ch$1/src/$3"
    fi
}

has_markers() { grep -qE '^(<<<<<<<|>>>>>>>)( |$)' "$1"; }

# starter_files EXDIR -> relative paths of the whole files an exercise's starter provides
starter_files() {
    [[ -d $1/starter ]] || return 0
    (cd "$1/starter" && find . -type f | sed 's|^\./||; s|\.patch$||' | sort -u)
}

# write_starter NN EXDIR DEST: the exercise's starter as whole files (each starter/<path>.patch
# applied to chapter NN's <path>; a whole file is taken as it is)
write_starter() {
    local nn=$1 ex=$2 dest=$3 rel
    local tree=$TMP/starter-tree-$nn
    [[ -d $tree ]] || sync_tree "$nn" "$tree" || exit 1
    mkdir -p "$dest"
    while IFS= read -r rel; do
        if [[ -f $ex/starter/$rel.patch ]]; then
            [[ -f $tree/$rel ]] || die "$ex/starter/$rel.patch: chapter $nn has no $rel"
            materialize "$TMP/file" "$tree/$rel" "$ex/starter/$rel.patch" || die "the starter of $ex no longer applies"
            put "$TMP/file" "$dest/$rel"
        else
            put "$ex/starter/$rel" "$dest/$rel"
        fi
    done < <(starter_files "$ex")
}

# check_dir LABEL DIR PARENT-TREE [TREE]: one problem per line on stdout for the files of DIR that
# shadow PARENT-TREE (whole copies, whole files instead of patches, patches that do not apply or
# change nothing). TREE, when given, is DIR's chapter synced without an error: each of its
# patched files is then its patch applied to PARENT-TREE's version already (sync_tree applies a
# chapter's patch to the earlier chapter's file), so only "changes nothing" is left to look at.
check_dir() {
    local label=$1 dir=$2 parent=$3 tree=${4:-} f rel
    while IFS= read -r f; do
        if [[ $f == *.patch ]]; then
            rel=${f%.patch}
            if [[ ! -f $parent/$rel ]]; then
                echo "$dir/$f: patches $rel, which $label does not inherit"
            elif [[ -n $tree ]]; then
                if cmp -s "$tree/$rel" "$parent/$rel"; then echo "$dir/$f: changes nothing (delete it)"; fi
            elif ! { cp "$parent/$rel" "$TMP/check" && apply_patch "$TMP/check" "$dir/$f"; }; then
                echo "$dir/$f: no longer applies to the earlier version of $rel (make carry)"
            elif cmp -s "$TMP/check" "$parent/$rel"; then
                echo "$dir/$f: changes nothing (delete it)"
            fi
        elif [[ -f $parent/$f ]]; then
            if has_markers "$dir/$f"; then
                echo "$dir/$f: has merge conflict markers: resolve them, then make carry"
            elif cmp -s "$dir/$f" "$parent/$f"; then
                echo "$dir/$f: a byte copy of the version it shadows (delete it)"
            else
                echo "$dir/$f: a whole file that shadows an earlier chapter's (make carry turns it into a patch)"
            fi
        fi
    done < <(cd "$dir" && find . -type f ! -name REMOVED ! -path './exercises/*' ! -name README.md | sed 's|^\./||' | sort)
}

exercise_dirs() { # NN -> the exercise folders of chapter NN
    local d
    for d in "$(chapter_dir "$1")"/exercises/[0-9][0-9]-*/; do [[ -d $d ]] && echo "${d%/}"; done
}

check_all() {
    local n d prev="" prev_ok=0 ok bad=0 problems ex
    while IFS=$'\t' read -r n d; do
        # each chapter's tree is resolved once: for its own starters, then as the next one's parent
        ok=1
        sync_tree "$n" "$TMP/tree-$n" 2> "$TMP/sync-$n.err" || ok=0
        if [[ -n $prev ]] && ((!prev_ok)); then
            echo "FAIL chapter $prev cannot be resolved: $(cat "$TMP/sync-$prev.err")"
            bad=1
            prev=$n prev_ok=$ok
            continue
        fi
        problems=""
        [[ -n $prev ]] && problems=$(check_dir "chapter $n" "$d" "$TMP/tree-$prev" "$( ((ok)) && echo "$TMP/tree-$n")")
        for ex in $(exercise_dirs "$n"); do
            [[ -d $ex/starter ]] || continue
            problems+=$(check_dir "chapter $n (starter)" "$ex/starter" "$TMP/tree-$n")
        done
        if [[ -n $problems ]]; then
            bad=1
            echo "FAIL chapter $n:"
            echo "$problems" | sed '/^$/d; s/^/  /'
        else
            echo "ok   chapter $n: $(find "$d" -name '*.patch' ! -path '*/exercises/*' | wc -l) patches and $(find "$d" -path '*/exercises/*' -name '*.patch' | wc -l) starter patches apply, no whole-file shadows"
        fi
        prev=$n prev_ok=$ok
    done < <(chapters)
    return $bad
}

# carry_dir NN PREV DIR PARENT-TREE [starter]: brings the files of DIR (chapter NN's folder, or
# an exercise's starter/ folder) up to date with PARENT-TREE (chapter PREV's, or NN's own tree
# for a starter). Prints what it did; prints "CONFLICT <file>" for each file left with markers.
carry_dir() {
    local nn=$1 prev=$2 dir=$3 parent=$4 starter=${5:-} f rel
    while IFS= read -r f; do
        if [[ $f == *.patch ]]; then
            rel=${f%.patch}
            [[ -f $parent/$rel ]] || { echo "CONFLICT $dir/$f (patches $rel, which is gone: delete the patch or restore the file)"; continue; }
            cp "$parent/$rel" "$TMP/carry"
            if apply_patch "$TMP/carry" "$dir/$f"; then
                if cmp -s "$TMP/carry" "$parent/$rel"; then
                    rm "$dir/$f"; echo "removed $dir/$f (it changes nothing any more)"
                else
                    cp "$dir/$f" "$TMP/before"
                    make_patch "$parent/$rel" "$TMP/carry" "$rel" "$(header "$nn" "$prev" "$rel" "$starter")" "$dir/$f"
                    cmp -s "$TMP/before" "$dir/$f" || echo "refreshed $dir/$f"
                fi
            else
                # merge: the hunks that apply go in, the others become conflict markers
                cp "$parent/$rel" "$TMP/carry"
                patch -s -f --merge=diff3 --no-backup-if-mismatch -r - "$TMP/carry" < "$dir/$f" > /dev/null 2>&1 || true
                cp "$TMP/carry" "$dir/$rel"
                rm "$dir/$f"
                if has_markers "$dir/$rel"; then
                    echo "CONFLICT $dir/$rel"
                else
                    make_patch "$parent/$rel" "$dir/$rel" "$rel" "$(header "$nn" "$prev" "$rel" "$starter")" "$dir/$f"
                    rm "$dir/$rel"; echo "merged $dir/$f"
                fi
            fi
        elif [[ -f $parent/$f ]]; then
            if has_markers "$dir/$f"; then
                echo "CONFLICT $dir/$f"
            elif cmp -s "$dir/$f" "$parent/$f"; then
                rm "$dir/$f"; echo "removed $dir/$f (a copy of the version it shadows)"
            else
                make_patch "$parent/$f" "$dir/$f" "$f" "$(header "$nn" "$prev" "$f" "$starter")" "$dir/$f.patch"
                rm "$dir/$f"; echo "patched $dir/$f.patch (from the whole file)"
            fi
        fi
    done < <(cd "$dir" && find . -type f ! -name REMOVED ! -path './exercises/*' ! -name README.md | sed 's|^\./||' | sort)
}

carry_all() {
    local n d prev="" out conflicts=() ex
    while IFS=$'\t' read -r n d; do
        out=""
        # tree-$prev is chapter $prev as carried in the previous round
        [[ -n $prev ]] && out=$(carry_dir "$n" "$prev" "$d" "$TMP/tree-$prev")
        if [[ $out != *CONFLICT* ]]; then
            # chapter n as carried: the base of its starters and the next chapter's parent
            rm -rf "$TMP/tree-$n"
            sync_tree "$n" "$TMP/tree-$n" || return 1
            for ex in $(exercise_dirs "$n"); do
                [[ -d $ex/starter ]] || continue
                out+=$'\n'$(carry_dir "$n" "$n" "$ex/starter" "$TMP/tree-$n" starter)
            done
        fi
        echo "$out" | sed '/^$/d; /^CONFLICT/d'
        mapfile -t conflicts < <(echo "$out" | sed -n 's/^CONFLICT //p')
        if ((${#conflicts[@]})); then
            echo "carry: stopped at chapter $n; resolve the conflict markers in:"
            printf '  %s\n' "${conflicts[@]}"
            echo "then run 'make carry' again (later chapters are carried after this one)."
            return 1
        fi
        prev=$n
    done < <(chapters)
    echo "carry: every chapter is up to date"
}

stats() {
    local n d files plus minus ctx
    while IFS=$'\t' read -r n d; do
        files=$(find "$d" -name '*.patch' ! -path '*/exercises/*' | wc -l)
        ((files)) || continue
        read -r plus minus ctx < <(find "$d" -name '*.patch' ! -path '*/exercises/*' -print0 | xargs -0 cat |
            awk '/^(\+\+\+|---) /{next} /^@@/{h=1; next} !h{next}
                 /^\+/{p++} /^-/{m++} /^ /{c++} END{print p+0, m+0, c+0}')
        printf 'chapter %s: %3d patches, %5d lines added, %5d removed, %5d unchanged lines carried as context\n' \
            "$n" "$files" "$plus" "$minus" "$ctx"
    done < <(chapters)
}

# tour_order NN: the chapter's files in the order its README's tour section links them
tour_order() {
    local d
    d=$(chapter_dir "$1")
    [[ -f $d/README.md ]] || return 0
    awk 'tolower($0) ~ /^## .*tour/ {on=1; next} /^## / {on=0} on' "$d/README.md" |
        grep -oE '\]\([^)#[:space:]]+' | sed 's/^](//; s/\.patch$//; s|^\./||' |
        grep -v '^\.\./\|://' | awk '!seen[$0]++' || true
}

lesson() {
    local nn=$1 prev rel t=0 tl
    prev=$(previous "$nn")
    [[ -n $prev ]] || die "chapter $nn is the first chapter: nothing to compare with"
    sync_tree "$prev" "$TMP/a" || exit 1
    sync_tree "$nn" "$TMP/b" || exit 1
    { (cd "$TMP" && diff -rqN -x README.md -x exercises a b) || true; } | awk '{print $2}' | sed 's|^a/||' | sort > "$TMP/changed"
    { tour_order "$nn" | grep -Fxf "$TMP/changed" || true; grep -v '^tests/' "$TMP/changed"; } |
        awk '!seen[$0]++' > "$TMP/order"
    echo "Chapter $nn's lesson: what it changes in chapter $prev's source, in the order of the tour in"
    echo "$(chapter_dir "$nn")/README.md. Tests are left out (make diff CH=$nn shows everything)."
    echo
    while IFS= read -r rel; do
        [[ $rel == tests/* ]] && continue
        (cd "$TMP" && diff -uN --label "a/$rel" --label "b/$rel" "a/$rel" "b/$rel") || true
    done < "$TMP/order"
    while IFS= read -r rel; do
        [[ $rel == tests/* ]] || continue
        tl=$( (cd "$TMP" && diff -uN "a/$rel" "b/$rel") | grep -cE '^[-+][^-+]|^[-+]$' || true)
        t=$((t + tl))
    done < "$TMP/changed"
    echo
    echo "(left out: $(grep -c '^tests/' "$TMP/changed" || true) test files, $t test lines added or removed)"
}

# runnable NN: chapter NN's tree has a cmd/ folder. The whole listing is read: a reader that stops
# at the first match (grep -q) makes the writer die of SIGPIPE, and under pipefail that failure
# would say "not runnable" now and then.
runnable() {
    local files
    files=$(resolve "$1" | cut -f1) || return 2
    [[ $'\n'$files == *$'\n'cmd/* ]]
}

cmd=${1:-}
case $cmd in
list) chapters | cut -f1 ;;
runnable) runnable "${2:?chapter number}" ;;
newest)
    newest=""
    while IFS=$'\t' read -r n d; do
        runnable "$n" && newest=$n
    done < <(chapters)
    [[ -n $newest ]] || die "no runnable chapter yet"
    echo "$newest" ;;
dir) chapter_dir "${2:?chapter number}" ;;
resolve) resolve "${2:?chapter number}" ;;
sync) sync_tree "${2:?chapter number}" "${3:?destination}" "${4:-}" || exit 1 ;;
starter) write_starter "${2:?chapter number}" "${3:?exercise folder}" "${4:?destination}" ;;
apply) apply_patch "${2:?file}" "${3:?patch}" || { cat "$TMP/patch.out" >&2; exit 1; } ;;
diff)
    nn=${2:?chapter number}
    prev=$(previous "$nn")
    [[ -n $prev ]] || die "chapter $nn is the first chapter: nothing to compare with"
    sync_tree "$prev" "$TMP/ch$prev" || exit 1
    sync_tree "$nn" "$TMP/ch$nn" || exit 1
    # each chapter's README and exercises are its own, not a change of the previous chapter's
    (cd "$TMP" && diff -ruN -x README.md -x exercises "ch$prev" "ch$nn") || true ;;
check) check_all ;;
carry) carry_all ;;
lesson) lesson "${2:?chapter number}" ;;
stats) stats ;;
*) sed -n '2,40p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
