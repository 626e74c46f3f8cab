#!/usr/bin/env bash
# format.sh -- the C layout of .clang-format, for every C file of the workspace, including the
# files that chapters store as patches (they are checked and formatted whole, as `make tree`
# writes them, and stored again as patches).
#
#   format.sh check   lists every file whose layout differs from clang-format's; exit 1 if any
#   format.sh fix     formats them: whole files in place; a patched file is formatted whole in the
#                     chapter folder and `chapter.sh carry` stores it as a patch again
set -euo pipefail
cd "$(dirname "$0")/.."
CF=${CLANG_FORMAT:-clang-format}
command -v "$CF" > /dev/null || { echo "format: $CF not found (apt-get install clang-format)" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

is_c() { [[ $1 == *.c || $1 == *.h ]]; }

# plain C files: the core, the tests, the fuzz harnesses, and every whole file in the chapters
plain_files() {
    git ls-files -co --exclude-standard -- shared tests chapters | while IFS= read -r f; do
        is_c "$f" && [[ -f $f ]] && echo "$f"
    done
}

# "chapter<TAB>rel<TAB>patch" for every patched C file (chapter patches and exercise starters)
patched_files() {
    local n d p rel
    for n in $(scripts/chapter.sh list); do
        d=$(scripts/chapter.sh dir "$n")
        while IFS= read -r p; do
            rel=${p#"$d"/}; rel=${rel%.patch}
            if is_c "$rel"; then printf '%s\t%s\t%s\n' "$n" "$rel" "$p"; fi
        done < <(find "$d" -name '*.patch' | sort)
    done
}

# whole_of N REL PATCH OUT: the whole file a patch stands for
whole_of() {
    local n=$1 rel=$2 p=$3 out=$4 d ex
    d=$(scripts/chapter.sh dir "$n")
    if [[ $p == "$d"/exercises/* ]]; then
        ex=${p#"$d"/exercises/}; ex=$d/exercises/${ex%%/*}
        rel=${rel#exercises/*/starter/}
        rm -rf "$TMP/st"; scripts/chapter.sh starter "$n" "$ex" "$TMP/st"
        cp "$TMP/st/$rel" "$out"
    else
        [[ -d $TMP/tree-$n ]] || scripts/chapter.sh sync "$n" "$TMP/tree-$n"
        cp "$TMP/tree-$n/$rel" "$out"
    fi
}

check() {
    local f bad=0 n rel p
    while IFS= read -r f; do
        "$CF" --style=file "$f" | cmp -s - "$f" || { echo "  $f"; bad=1; }
    done < <(plain_files)
    while IFS=$'\t' read -r n rel p; do
        whole_of "$n" "$rel" "$p" "$TMP/whole.${rel##*.}"
        "$CF" --style=file < "$TMP/whole.${rel##*.}" > "$TMP/fmt"
        cmp -s "$TMP/fmt" "$TMP/whole.${rel##*.}" || { echo "  $p (the whole file, as make tree writes it)"; bad=1; }
    done < <(patched_files)
    if ((bad)); then
        echo "format: the files above differ from .clang-format's layout; make format fixes them"
        return 1
    fi
    echo "format: every C file follows .clang-format"
}

fix() {
    local f n rel p
    # 1. every patched file whole, formatted, taken from the trees as they are now
    #    (all of them first: a later chapter's patch applies only to the earlier chapter as it is now)
    patched_files > "$TMP/patched"
    local i=0
    while IFS=$'\t' read -r n rel p; do
        i=$((i + 1)); whole_of "$n" "$rel" "$p" "$TMP/whole-$i"
    done < "$TMP/patched"
    i=0
    while IFS=$'\t' read -r n rel p; do
        i=$((i + 1)); "$CF" --style=file < "$TMP/whole-$i" > "${p%.patch}"; rm "$p"
    done < "$TMP/patched"
    # 2. the whole files in place (this includes the ones written in step 1: formatting is idempotent)
    while IFS= read -r f; do "$CF" --style=file -i "$f"; done < <(plain_files)
    # 3. whole files that shadow an earlier chapter's become patches again
    scripts/chapter.sh carry
}

case ${1:-} in
check) check ;;
fix) fix ;;
*) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
