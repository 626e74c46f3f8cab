#!/usr/bin/env bash
# chapter.sh -- assembles a chapter's complete source tree from the chapter folders.
#
# A chapter folder (chapters/NN-name/) holds only what chapter NN adds or changes. Every other
# file resolves to its newest version in an earlier chapter. A chapter removes an inherited file by
# listing its path in a file named REMOVED (one path a line, # comments). README.md and exercises/
# belong to their own chapter and are never inherited.
#
#   chapter.sh list                    the chapter numbers, oldest first
#   chapter.sh newest                  the newest runnable chapter (one with a cmd/ folder)
#   chapter.sh dir NN                  the folder of chapter NN
#   chapter.sh resolve NN              "relative-path<TAB>source-file" for every file of chapter NN
#   chapter.sh sync NN DEST [OVERLAY]  writes the resolved tree to DEST, copying only files that
#                                      changed (so incremental builds stay incremental); files of
#                                      the OVERLAY folder replace same-named files or are added
#                                      (used by the exercises)
#   chapter.sh diff NN                 unified diff of chapter NN against chapter NN-1 (without
#                                      the chapters' own README.md and exercises/)
#   chapter.sh check-copies            one line per chapter: ok, or the files that are byte copies
#                                      of the version they shadow; exit 1 if any
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "chapter: $*" >&2; exit 2; }

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

own_files() { # files of one chapter folder, relative, excluding the folder's own control files
    (cd "$1" && find . -type f ! -name REMOVED | sed 's|^\./||' | sort)
}

inherited() { [[ $1 != README.md && $1 != exercises/* ]]; }

resolve() { # NN -> "rel<TAB>src" lines
    local target=$1 n d rel
    declare -A map=()
    chapter_dir "$target" > /dev/null
    while IFS=$'\t' read -r n d; do
        [[ $n > $target ]] && break
        # files inherited from earlier chapters lose README and exercises
        for rel in "${!map[@]}"; do inherited "$rel" || unset "map[$rel]"; done
        if [[ -f $d/REMOVED ]]; then
            while IFS= read -r rel; do
                rel=${rel%%#*}; rel=${rel//[[:space:]]/}
                [[ -z $rel ]] && continue
                [[ -n ${map[$rel]+x} ]] || die "$d/REMOVED: $rel is not in an earlier chapter"
                unset "map[$rel]"
            done < "$d/REMOVED"
        fi
        while IFS= read -r rel; do map[$rel]=$d/$rel; done < <(own_files "$d")
    done < <(chapters)
    for rel in "${!map[@]}"; do printf '%s\t%s\n' "$rel" "${map[$rel]}"; done | sort
}

sync_tree() { # NN DEST [OVERLAY]
    local nn=$1 dest=$2 overlay=${3:-} rel src
    mkdir -p "$dest"
    declare -A keep=()
    while IFS=$'\t' read -r rel src; do
        if [[ -n $overlay && -f $overlay/$rel ]]; then src=$overlay/$rel; fi
        keep[$rel]=1
        if ! cmp -s "$src" "$dest/$rel" 2>/dev/null; then
            mkdir -p "$(dirname "$dest/$rel")"
            cp "$src" "$dest/$rel"
        fi
    done < <(resolve "$nn")
    if [[ -n $overlay ]]; then # overlay files that are new to the tree are added too
        while IFS= read -r rel; do
            [[ -n ${keep[$rel]+x} ]] && continue
            keep[$rel]=1
            if ! cmp -s "$overlay/$rel" "$dest/$rel" 2>/dev/null; then
                mkdir -p "$(dirname "$dest/$rel")"
                cp "$overlay/$rel" "$dest/$rel"
            fi
        done < <(cd "$overlay" && find . -type f | sed 's|^\./||')
    fi
    while IFS= read -r rel; do
        [[ -n ${keep[$rel]+x} ]] || rm -f "$dest/$rel"
    done < <(cd "$dest" && find . -type f | sed 's|^\./||')
}

previous() { # NN -> the chapter number before it, or nothing
    local nn=$1 prev="" n d
    while IFS=$'\t' read -r n d; do [[ $n == "$nn" ]] && break; prev=$n; done < <(chapters)
    echo "$prev"
}

cmd=${1:-}
case $cmd in
list) chapters | cut -f1 ;;
newest)
    newest=""
    while IFS=$'\t' read -r n d; do
        resolve "$n" | cut -f1 | grep -q '^cmd/' && newest=$n
    done < <(chapters)
    [[ -n $newest ]] || die "no runnable chapter yet"
    echo "$newest" ;;
dir) chapter_dir "${2:?chapter number}" ;;
resolve) resolve "${2:?chapter number}" ;;
sync) sync_tree "${2:?chapter number}" "${3:?destination}" "${4:-}" ;;
diff)
    nn=${2:?chapter number}
    prev=$(previous "$nn")
    [[ -n $prev ]] || die "chapter $nn is the first chapter: nothing to compare with"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    sync_tree "$prev" "$tmp/ch$prev"
    sync_tree "$nn" "$tmp/ch$nn"
    # each chapter's README and exercises are its own, not a change of the previous chapter's
    (cd "$tmp" && diff -ruN -x README.md -x exercises "ch$prev" "ch$nn") || true ;;
check-copies)
    bad=0
    while IFS=$'\t' read -r n d; do
        prev=$(previous "$n")
        copies=()
        if [[ -n $prev ]]; then
            declare -A old=()
            while IFS=$'\t' read -r rel src; do old[$rel]=$src; done < <(resolve "$prev")
            while IFS= read -r rel; do
                inherited "$rel" || continue
                if [[ -n ${old[$rel]+x} ]] && cmp -s "$d/$rel" "${old[$rel]}"; then
                    copies+=("$d/$rel (same as ${old[$rel]})")
                fi
            done < <(own_files "$d")
            unset old
        fi
        if ((${#copies[@]})); then
            bad=1
            echo "FAIL chapter $n: byte copies of the version they shadow:"
            printf '  %s\n' "${copies[@]}"
        else
            echo "ok   chapter $n: no copies"
        fi
    done < <(chapters)
    exit $bad ;;
*) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
