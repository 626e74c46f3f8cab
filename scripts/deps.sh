#!/usr/bin/env bash
# scripts/deps.sh — install (or check) the Debian packages this project needs.
#
# Usage:
#   scripts/deps.sh           install whatever is missing (apt-get update once, then
#                             apt-get install -y --no-install-recommends MISSING...)
#   scripts/deps.sh --check   exit 0 if every package is installed; otherwise list the
#                             missing ones on stderr and exit 1 (installs nothing)
#   --browser (with either)   also the browser tests' packages: chromium, nodejs, npm (make
#                             deps-browser; .ci/run). Without them make test counts the browser
#                             tests as skipped. node and npm from elsewhere (NodeSource's nodejs
#                             bundles npm, and Debian's npm cannot be installed next to it) count
#                             as installed when the commands are there.
#
# Design:
#   * One dpkg-query call asks for all packages at once, so the common case (everything
#     is present) costs a few milliseconds and prints a single line (nothing with --check).
#   * Installing runs apt-get directly as root, through sudo otherwise, always with
#     DEBIAN_FRONTEND=noninteractive so it never stops to ask a question.
#   * On a machine without dpkg/apt-get (not Debian-like) it prints the package list so
#     a person can translate it, and exits 1.
set -euo pipefail

PACKAGES=(
  libnats-dev nats-server
  libprotobuf-c-dev protobuf-c-compiler libprotobuf-dev
  libcivetweb-dev
  libpq-dev postgresql
  libcmocka-dev libjansson-dev uuid-dev
  pkg-config curl gcc make patch clang-format
)
BROWSER_PACKAGES=(chromium nodejs npm)
declare -A COMMAND_OF=([chromium]=chromium [nodejs]=node [npm]=npm)

say() { printf 'deps: %s\n' "$*"; }
err() { printf 'deps: %s\n' "$*" >&2; }

usage() {
  cat <<'EOF'
usage: scripts/deps.sh [--check] [--browser]
  (no flag)  install the missing Debian packages with apt-get (sudo when not root)
  --check    exit 0 if all packages are installed, else list the missing ones, exit 1
  --browser  also Chromium, Node.js and npm, for the browser tests of make test
EOF
}

check_only=0
browser=0
for arg in "$@"; do
  case "$arg" in
    --check) check_only=1 ;;
    --browser) browser=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
((browser)) && PACKAGES+=("${BROWSER_PACKAGES[@]}")

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  err "no dpkg-query/apt-get here: this script only knows Debian/Ubuntu packages."
  err "install the equivalents of these Debian packages by hand: ${PACKAGES[*]}"
  exit 1
fi

# Prints the packages from PACKAGES that are not installed, one per line.
missing_packages() {
  local status
  # One call for all packages; unknown packages make dpkg-query exit 1 and complain on
  # stderr, which is expected here. Multi-arch packages may appear once per arch.
  status=$(dpkg-query -W -f='${Package}\t${Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
  local p
  for p in "${PACKAGES[@]}"; do
    if [[ -n ${COMMAND_OF[$p]:-} ]] && command -v "${COMMAND_OF[$p]}" >/dev/null 2>&1; then
      continue
    fi
    # ${Status} is "want flag state"; only state "installed" counts.
    if ! awk -F'\t' -v p="$p" '$1 == p && $2 ~ / installed$/ { found = 1 } END { exit !found }' \
      <<<"$status"; then
      printf '%s\n' "$p"
    fi
  done
}

mapfile -t missing < <(missing_packages)

if ((${#missing[@]} == 0)); then
  ((check_only)) || say "all ${#PACKAGES[@]} packages are installed"
  exit 0
fi

if ((check_only)); then
  err "missing packages: ${missing[*]}"
  err "install them with: scripts/deps.sh"
  exit 1
fi

sudo_cmd=()
via=""
if (($(id -u) != 0)); then
  if ! command -v sudo >/dev/null 2>&1; then
    err "not root and no sudo: run as root: apt-get install -y ${missing[*]}"
    exit 1
  fi
  sudo_cmd=(sudo)
  via=" (via sudo)"
fi
export DEBIAN_FRONTEND=noninteractive

say "missing: ${missing[*]}"
say "running apt-get update$via"
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
say "running apt-get install -y --no-install-recommends ${missing[*]}$via"
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}"

mapfile -t still < <(missing_packages)
if ((${#still[@]} > 0)); then
  err "still missing after apt-get install: ${still[*]}"
  exit 1
fi
say "done: all ${#PACKAGES[@]} packages are installed"
