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
STYLE="file:$PWD/.clang-format" # also for copies outside the workspace (the checked trees)
declare -A DIR                  # chapter number -> its folder, looked up once
for n in $(scripts/chapter.sh list); do DIR[$n]=$(scripts/chapter.sh dir "$n"); done

# Prints, one per line, those of the given files whose layout differs from .clang-format's: one
# clang-format for all of them (one process per file made `make test` wait minutes).
misformatted() {
    (($#)) || return 0
    "$CF" --style="$STYLE" --dry-run --Werror "$@" 2>&1 |
        grep -oE '^.+:[0-9]+:[0-9]+: error: code should be clang-formatted' |
        sed -E 's/:[0-9]+:[0-9]+: error: code should be clang-formatted$//' | sort -u
}

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
    for n in $(printf '%s\n' "${!DIR[@]}" | sort); do
        d=${DIR[$n]}
        while IFS= read -r p; do
            rel=${p#"$d"/}; rel=${rel%.patch}
            if is_c "$rel"; then printf '%s\t%s\t%s\n' "$n" "$rel" "$p"; fi
        done < <(find "$d" -name '*.patch' | sort)
    done
}

# whole_of N REL PATCH OUT: the whole file a patch stands for
whole_of() {
    local n=$1 rel=$2 p=$3 out=$4 d
    d=${DIR[$n]}
    [[ -d $TMP/tree-$n ]] || scripts/chapter.sh sync "$n" "$TMP/tree-$n"
    if [[ $p == "$d"/exercises/* ]]; then
        # a starter's patch applies to the chapter's own file (the tree synced once per chapter)
        rel=${rel#exercises/*/starter/}
        cp "$TMP/tree-$n/$rel" "$out"
        scripts/chapter.sh apply "$out" "$p" ||
            { echo "format: $p no longer applies (make carry)" >&2; exit 1; }
    else
        cp "$TMP/tree-$n/$rel" "$out"
    fi
}

check() {
    local f bad=0 n rel p i=0
    local -a plain=() wholes=()
    local -A patch_of=() # a whole copy -> the patch it was made from
    while IFS= read -r f; do plain+=("$f"); done < <(plain_files)
    while IFS= read -r f; do
        echo "  $f"
        bad=1
    done < <(misformatted "${plain[@]}")
    mkdir -p "$TMP/whole"
    while IFS=$'\t' read -r n rel p; do
        i=$((i + 1))
        f=$TMP/whole/$i.${rel##*.}
        whole_of "$n" "$rel" "$p" "$f"
        wholes+=("$f")
        patch_of[$f]=$p
    done < <(patched_files)
    while IFS= read -r f; do
        echo "  ${patch_of[$f]:-$f} (the whole file, as make tree writes it)"
        bad=1
    done < <(misformatted "${wholes[@]}")
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
