#!/usr/bin/env bash
# scripts/lab.sh — a private, local "lab": one nats-server (JetStream) and one PostgreSQL
# cluster for development and tests, both listening on 127.0.0.1 only.
#
# Usage: scripts/lab.sh up | down | status | env [NN] | db NN | reset-db NN|NAME | reset-stream |
#        psql [NN] [args] | kill-nats | restart-nats | restart-pg [fast|immediate]
#
#   up        start what is not running (idempotent), create role mallbots_user / db mallbots;
#             PostgreSQL starts durable, or fast with LAB_FAST=1 (see "Durability" below); a
#             running PostgreSQL keeps the mode it was started in (up says so when it differs)
#   down      stop both servers (idempotent)
#   status    one line per server (PostgreSQL's says durable or FAST); exit 0 when both are
#             healthy, 3 otherwise
#   env [NN]  shell export lines (PG_CONN, NATS_URL, ports):  eval "$(scripts/lab.sh env)";
#             the one place every script takes the lab's settings from. PG_CONN names the
#             book's database mallbots, or with NN chapter NN's own database mallbots_chNN
#   db NN     create chapter NN's database mallbots_chNN if it is missing (make run does)
#   reset-db NN|NAME  drop database mallbots_chNN (or NAME) with all its data and create it empty
#   reset-stream      empty the NATS server: its store (the stream, every consumer group, the dead
#             letters) is deleted; a server that was running is restarted on the empty store
#   psql [NN] psql as mallbots_user on mallbots (or mallbots_chNN); further args are passed on,
#             e.g.  scripts/lab.sh psql 03 -c 'select 1'
#   kill-nats     kill -9 the nats-server (a crash: its store stays), for crash tests (make chaos)
#   restart-nats  start the nats-server again (after kill-nats; kill -9 first if it runs)
#   restart-pg [fast|immediate]  stop PostgreSQL (pg_ctl -m fast: a clean stop; immediate: like a
#             crash, the start recovers from the WAL) and start it again in the mode it ran in
#
# Durability (chapter 09 on): the lab's PostgreSQL is durable by default: fsync = on,
# synchronous_commit = on, full_page_writes as PostgreSQL's default (on), so a commit the
# program was told about survives a crash of the server. Loss-freedom is chapter 09's lesson, and
# `make chaos` restarts the server under load. LAB_FAST=1 at the start of PostgreSQL (`up`, or
# `restart-pg` of a lab that was fast) turns the three off instead: faster commits, but a crash
# of the server (or the machine) may lose acknowledged commits or corrupt the cluster. The
# tests opt into it (scripts/test.sh sets LAB_FAST=1 for a lab it starts); never keep real data
# there. The mode is fixed while the server runs: `up` on a running lab never changes it, it
# warns when LAB_FAST asks for the other one (`scripts/lab.sh down` then `up` switches).
#
# Chapters run one after the other on the same lab, each on a database of its own (mallbots_ch03,
# mallbots_ch05, ...), so each keeps its data and its schema; a program refuses a database another
# chapter migrated (shared/pg.h, pg_migrate_as). The tests make scratch databases (e2e_*) of their
# own through the book's database mallbots. NN may be given as 3 or 03.
#
# Configuration (environment, with defaults):
#   LAB_DIR            <repo>/build/lab   state: nats store, pid and log files, pg cluster
#   LAB_PG_PORT        15432              PostgreSQL TCP port on 127.0.0.1
#   LAB_NATS_PORT      14222              NATS client port on 127.0.0.1
#   LAB_NATS_MON_PORT  18222              NATS monitoring (HTTP) port on 127.0.0.1
#   LAB_PG_BIN         newest /usr/lib/postgresql/*/bin (or the version the cluster was made with)
#
# Design:
#   * Nothing is installed or configured system-wide: every file lives under LAB_DIR, and the
#     servers bind 127.0.0.1 only. Debian's own PostgreSQL cluster (port 5432) is not touched.
#   * nats-server runs detached (setsid) with its output in LAB_DIR/nats/nats.log and its pid in
#     LAB_DIR/nats/nats.pid; health = the monitor's /healthz?js-enabled-only=true.
#   * PostgreSQL: initdb once, then pg_ctl start/stop. The superuser "postgres" is reachable
#     only through a unix socket in a 0700 directory next to the data directory ("trust" there,
#     so the owner of the cluster needs no password); TCP on 127.0.0.1 needs scram-sha-256.
#     Settings that may change between runs (port, socket dir) are rewritten into
#     DATA/lab.conf on every `up`; postgresql.conf includes it.
#   * As root: initdb and pg_ctl refuse to run as root, so they run as the OS user "postgres"
#     (via runuser) on a directory it owns. If that user cannot reach LAB_DIR (e.g. a repo
#     under /root, mode 0700), or the socket path would be too long, the cluster goes to
#     /var/tmp/mallbots-lab-UID-HASH/pg and LAB_DIR/pg becomes a symlink to it.
#   * Every wait is bounded (timeouts on loops, pg_ctl -t, timeout(1)); every failure ends
#     with a one-line message on stderr (plus the tail of the server log when a start failed)
#     and a non-zero exit. `up` and `down` take a lock (flock) so parallel calls do not race.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$SCRIPT_DIR")

LAB_DIR=${LAB_DIR:-$REPO_DIR/build/lab}
LAB_PG_PORT=${LAB_PG_PORT:-15432}
LAB_NATS_PORT=${LAB_NATS_PORT:-14222}
LAB_NATS_MON_PORT=${LAB_NATS_MON_PORT:-18222}

PG_DB=mallbots
PG_APP_USER=mallbots_user
PG_APP_PASS=mallbots_pass
PG_SUPERUSER=postgres # database superuser created by initdb
PG_OS_USER=postgres   # OS user that owns the cluster when this script runs as root

NATS_WAIT_S=10     # bound for nats-server to become healthy
PG_START_WAIT_S=30 # bound for pg_ctl start/stop
PG_READY_WAIT_S=10 # bound for pg_isready after start
LOCK_WAIT_S=60     # bound for another `up`/`down` to finish

# ---------------------------------------------------------------------------------------------
# helpers

say() { printf 'lab: %s\n' "$*"; }
warn() { printf 'lab: %s\n' "$*" >&2; }
die() {
  warn "$*"
  exit 1
}

# Prints the last lines of a log file on stderr, indented.
log_tail() {
  local file=$1
  if [[ -r $file ]]; then
    warn "last lines of $file:"
    tail -n 15 "$file" | sed 's/^/lab:   | /' >&2
  else
    warn "(no log file at $file)"
  fi
}

usage() {
  sed -n '4,41p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

check_port_var() {
  local name=$1 value=$2
  if ! [[ $value =~ ^[0-9]{1,5}$ ]] || ((10#$value < 1 || 10#$value > 65535)); then
    die "$name='$value' is not a TCP port number (1-65535)"
  fi
}

check_port_var LAB_PG_PORT "$LAB_PG_PORT"
check_port_var LAB_NATS_PORT "$LAB_NATS_PORT"
check_port_var LAB_NATS_MON_PORT "$LAB_NATS_MON_PORT"
if [[ $LAB_PG_PORT == "$LAB_NATS_PORT" || $LAB_PG_PORT == "$LAB_NATS_MON_PORT" ||
  $LAB_NATS_PORT == "$LAB_NATS_MON_PORT" ]]; then
  die "LAB_PG_PORT, LAB_NATS_PORT and LAB_NATS_MON_PORT must differ"
fi

# Absolute, normalised LAB_DIR (also keeps the fallback hash stable).
case $LAB_DIR in
  /*) ;;
  *) LAB_DIR=$PWD/$LAB_DIR ;;
esac
LAB_DIR=$(realpath -m -- "$LAB_DIR")

NATS_DIR=$LAB_DIR/nats
NATS_PIDFILE=$NATS_DIR/nats.pid
NATS_LOG=$NATS_DIR/nats.log
NATS_STORE=$NATS_DIR/store
NATS_HEALTH_URL="http://127.0.0.1:$LAB_NATS_MON_PORT/healthz?js-enabled-only=true"
PG_LINK=$LAB_DIR/pg

IS_ROOT=0
if (($(id -u) == 0)); then IS_ROOT=1; fi

# True if process PID exists and is not a zombie (any command name). Zombies matter: where
# pid 1 does not reap orphans, a stopped server can linger as one.
proc_alive() {
  local pid=$1 stat
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  if [[ -d /proc/$pid ]]; then
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) } # the field after "(comm) " is the state
    [[ ${stat:0:1} != Z ]]
  else
    kill -0 "$pid" 2>/dev/null
  fi
}

# True if process PID is alive and its command name is NAME (guards against reused pids).
pid_is() {
  local pid=$1 name=$2 comm
  proc_alive "$pid" || return 1
  if [[ -r /proc/$pid/comm ]]; then
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    [[ $comm == "$name" ]]
  fi
}

# Reads the first line of a pid file into REPLY; false if there is no such file.
read_pidfile() {
  REPLY=""
  [[ -f $1 ]] || return 1
  IFS= read -r REPLY <"$1" || true
  return 0
}

# True if something already listens on PORT in a way that stops us binding 127.0.0.1:PORT.
# Sets PORT_OWNER to a description of the listener when ss can tell.
port_busy() {
  local port=$1 line addr
  PORT_OWNER=""
  if command -v ss >/dev/null 2>&1; then
    while IFS= read -r line; do
      [[ -n $line ]] || continue
      addr=$(awk '{print $4}' <<<"$line")
      addr=${addr%:*}
      case $addr in
        127.0.0.1 | 0.0.0.0 | '*' | '[::]' | '[::ffff:127.0.0.1]')
          PORT_OWNER=$(grep -o 'users:(([^)]*))' <<<"$line" | head -n 1 || true)
          PORT_OWNER=${PORT_OWNER#users:((}
          PORT_OWNER=${PORT_OWNER%))}
          return 0
          ;;
      esac
    done < <(ss -Hltnp "sport = :$port" 2>/dev/null || true)
  fi
  # Fallback (or no ss): can we connect?
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null
}

require_port_free() {
  local port=$1 var=$2 what=$3
  if port_busy "$port"; then
    die "port $port on 127.0.0.1 ($what) is already in use${PORT_OWNER:+ by $PORT_OWNER}; stop that program or choose another port: $var=<port> $0 up"
  fi
}

# Runs a command as the cluster owner: the postgres OS user when we are root, else ourselves.
# (cd / so that tools run as postgres do not trip over an unreadable current directory.)
as_pg() {
  if ((IS_ROOT)); then
    (cd / && runuser -u "$PG_OS_USER" -- "$@")
  else
    "$@"
  fi
}

take_lock() {
  mkdir -p "$LAB_DIR"
  exec 9>"$LAB_DIR/.lock"
  if ! flock -w "$LOCK_WAIT_S" 9; then
    die "another lab.sh up/down holds $LAB_DIR/.lock for more than ${LOCK_WAIT_S}s; try again"
  fi
}

# ---------------------------------------------------------------------------------------------
# binaries

NATS_BIN=""
find_nats_bin() {
  if [[ -x /usr/sbin/nats-server ]]; then
    NATS_BIN=/usr/sbin/nats-server
  elif NATS_BIN=$(command -v nats-server 2>/dev/null); then
    :
  else
    die "nats-server not found (/usr/sbin/nats-server): install package nats-server (scripts/deps.sh or make deps)"
  fi
  command -v curl >/dev/null 2>&1 ||
    die "curl not found (needed for the NATS health check): install package curl (scripts/deps.sh or make deps)"
}

PG_BIN=""
# Picks the PostgreSQL binaries: LAB_PG_BIN, else the version an existing cluster was made
# with, else the newest /usr/lib/postgresql/*/bin.
find_pg_bin() {
  local want="" ver b
  if [[ -n ${LAB_PG_BIN:-} ]]; then
    want=$LAB_PG_BIN
  else
    if [[ -n ${PG_DATA:-} && -r $PG_DATA/PG_VERSION ]]; then
      ver=$(<"$PG_DATA/PG_VERSION")
      if [[ -x /usr/lib/postgresql/$ver/bin/postgres ]]; then
        want=/usr/lib/postgresql/$ver/bin
      fi
    fi
    if [[ -z $want ]]; then
      want=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    fi
  fi
  for b in initdb pg_ctl postgres psql pg_isready; do
    if [[ ! -x $want/$b ]]; then
      die "PostgreSQL binary $b not found in ${want:-/usr/lib/postgresql/*/bin}: install package postgresql (scripts/deps.sh or make deps)"
    fi
  done
  PG_BIN=$want
  if ((IS_ROOT)); then
    command -v runuser >/dev/null 2>&1 || die "runuser not found: install package util-linux"
    id -u "$PG_OS_USER" >/dev/null 2>&1 ||
      die "OS user '$PG_OS_USER' does not exist (needed to run PostgreSQL as root): install package postgresql (scripts/deps.sh)"
  fi
}

# ---------------------------------------------------------------------------------------------
# NATS

nats_healthy() {
  curl -fsS --max-time 2 "$NATS_HEALTH_URL" >/dev/null 2>&1
}

# Waits (bounded) until nats is healthy: 0 healthy, 1 time ran out, 2 the process is gone.
# (Only "alive" is checked here: right after the fork the child is not nats-server yet.)
nats_wait_healthy() {
  local pid=$1 i
  for ((i = 0; i < NATS_WAIT_S * 10; i++)); do
    proc_alive "$pid" || return 2
    nats_healthy && return 0
    sleep 0.1
  done
  return 1
}

nats_up() {
  local pid
  mkdir -p "$NATS_STORE"
  if read_pidfile "$NATS_PIDFILE"; then
    pid=$REPLY
    if pid_is "$pid" nats-server; then
      if nats_wait_healthy "$pid"; then
        say "nats: already running (pid $pid), nats://127.0.0.1:$LAB_NATS_PORT"
        return 0
      fi
      die "nats: pid $pid is running but not healthy at $NATS_HEALTH_URL (started with other ports?); run: $0 down && $0 up"
    fi
    say "nats: removing stale pid file $NATS_PIDFILE (process ${pid:-?} is gone)"
    rm -f "$NATS_PIDFILE"
  fi
  require_port_free "$LAB_NATS_PORT" LAB_NATS_PORT "NATS client port"
  require_port_free "$LAB_NATS_MON_PORT" LAB_NATS_MON_PORT "NATS monitor port"

  printf '=== %s lab.sh up: starting nats-server\n' "$(date '+%F %T')" >>"$NATS_LOG"
  # setsid: own session, so a Ctrl-C in this terminal does not reach the server. In a
  # non-interactive shell the background child is no process-group leader, so setsid execs
  # in place and $! is the server's pid. 9>&- keeps the lab lock out of the daemon.
  setsid "$NATS_BIN" -a 127.0.0.1 -p "$LAB_NATS_PORT" -m "$LAB_NATS_MON_PORT" \
    -js -sd "$NATS_STORE" </dev/null >>"$NATS_LOG" 2>&1 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$NATS_PIDFILE"
  local rc=0
  nats_wait_healthy "$pid" || rc=$?
  if ((rc == 0)) && ! pid_is "$pid" nats-server; then
    rc=3 # something else answers on the monitor port
  fi
  if ((rc != 0)); then
    case $rc in
      1) warn "nats: not healthy after ${NATS_WAIT_S}s at $NATS_HEALTH_URL; stopping it" ;;
      2) warn "nats: nats-server exited during start-up" ;;
      *) warn "nats: pid $pid is not nats-server (setsid forked?); stopping it" ;;
    esac
    if proc_alive "$pid"; then kill "$pid" 2>/dev/null || true; fi
    rm -f "$NATS_PIDFILE"
    log_tail "$NATS_LOG"
    exit 1
  fi
  say "nats: started (pid $pid), nats://127.0.0.1:$LAB_NATS_PORT, monitor http://127.0.0.1:$LAB_NATS_MON_PORT, store $NATS_STORE"
}

nats_down() {
  local pid i
  if ! read_pidfile "$NATS_PIDFILE"; then
    say "nats: not running"
    return 0
  fi
  pid=$REPLY
  if ! pid_is "$pid" nats-server; then
    say "nats: not running (removed stale pid file, process ${pid:-?} is gone)"
    rm -f "$NATS_PIDFILE"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do # 10 s
    pid_is "$pid" nats-server || break
    sleep 0.1
  done
  if pid_is "$pid" nats-server; then
    warn "nats: pid $pid ignored SIGTERM for 10s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do
      pid_is "$pid" nats-server || break
      sleep 0.1
    done
    pid_is "$pid" nats-server && die "nats: could not stop pid $pid"
  fi
  rm -f "$NATS_PIDFILE"
  say "nats: stopped (pid $pid)"
}

# Prints the status line; true if healthy.
nats_status() {
  local pid
  if ! read_pidfile "$NATS_PIDFILE"; then
    say "nats: stopped"
    return 1
  fi
  pid=$REPLY
  if ! pid_is "$pid" nats-server; then
    say "nats: stopped (stale pid file: process ${pid:-?} is gone)"
    return 1
  fi
  if nats_healthy; then
    say "nats: running, healthy (pid $pid), nats://127.0.0.1:$LAB_NATS_PORT, monitor :$LAB_NATS_MON_PORT"
    return 0
  fi
  say "nats: running (pid $pid) but NOT healthy: no OK from $NATS_HEALTH_URL"
  return 1
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

PG_BASE="" PG_DATA="" PG_SOCK="" PG_LOG=""

set_pg_paths() {
  PG_BASE=$1
  PG_DATA=$PG_BASE/data
  PG_SOCK=$PG_BASE/run
  PG_LOG=$PG_BASE/postgres.log
}

# Finds an existing cluster location (no changes); false if there is none.
pg_resolve() {
  if [[ -L $PG_LINK ]]; then
    set_pg_paths "$(readlink -- "$PG_LINK")"
  elif [[ -d $PG_LINK ]]; then
    set_pg_paths "$PG_LINK"
  else
    return 1
  fi
  [[ -d $PG_BASE ]]
}

# The /var/tmp fallback location for this LAB_DIR (short, reachable by everyone's postgres).
pg_fallback_base() {
  local hash
  hash=$(printf '%s' "$LAB_DIR" | sha1sum | cut -c1-8)
  printf '/var/tmp/mallbots-lab-%s-%s\n' "$(id -u)" "$hash"
}

# Creates (if needed) the /var/tmp parent of a fallback cluster: ours, mode 0755, no symlink
# (/var/tmp is world-writable, so refuse a directory somebody else planted there).
pg_make_fallback_parent() {
  local fb=$1
  mkdir -p -- "$fb"
  [[ ! -L $fb && $(stat -c %u -- "$fb") == "$(id -u)" ]] ||
    die "postgres: fallback dir $fb exists but is not ours; remove it or set LAB_DIR elsewhere"
  chmod 755 "$fb"
}

# Creates (if needed) a directory owned by the cluster owner, mode 0700.
pg_make_owned_dir() {
  local dir=$1
  mkdir -p -- "$dir"
  if ((IS_ROOT)); then chown "$PG_OS_USER:" "$dir"; fi
  chmod 700 "$dir"
}

# True if the cluster owner can reach (search) directory DIR.
pg_owner_can_reach() {
  if ((IS_ROOT)); then
    as_pg test -x "$1" 2>/dev/null
  else
    test -x "$1"
  fi
}

# Decides and prepares where the cluster lives; sets PG_* paths.
pg_prepare_location() {
  local fb base why=""
  mkdir -p "$LAB_DIR"
  if [[ -L $PG_LINK ]]; then
    set_pg_paths "$(readlink -- "$PG_LINK")"
    pg_make_fallback_parent "$(dirname -- "$PG_BASE")"
  elif [[ -d $PG_LINK ]]; then
    set_pg_paths "$PG_LINK"
    pg_owner_can_reach "$PG_BASE" ||
      die "postgres: OS user $PG_OS_USER cannot reach $PG_BASE; remove it (rm -rf $PG_BASE) and run up again to use a fallback location"
  else
    base=$PG_LINK
    # The socket path BASE/run/.s.PGSQL.PORT (BASE + 20 chars) must fit in sun_path (107).
    if ! pg_owner_can_reach "$LAB_DIR"; then
      why="OS user $PG_OS_USER cannot reach $LAB_DIR"
    elif ((${#base} + 20 > 107)); then
      why="$LAB_DIR is too long for a unix socket path"
    fi
    if [[ -n $why ]]; then
      fb=$(pg_fallback_base)
      pg_make_fallback_parent "$fb"
      base=$fb/pg
      say "postgres: $why; cluster goes to $base (symlink $PG_LINK)"
      ln -sfn -- "$base" "$PG_LINK"
    fi
    set_pg_paths "$base"
  fi
  pg_make_owned_dir "$PG_BASE"
  if [[ ! -d $PG_SOCK ]]; then
    as_pg mkdir -m 700 -- "$PG_SOCK"
  fi
}

# True when PostgreSQL is to start in the fast mode (LAB_FAST=1; see "Durability" above).
lab_fast() {
  [[ ${LAB_FAST:-0} == 1 ]]
}

# The mode of the running server in REPLY: "durable", "fast", or "mixed (...)" when somebody
# changed the settings by hand; false when the server does not answer.
pg_mode() {
  local out
  REPLY=""
  out=$(PGCONNECT_TIMEOUT=5 as_pg timeout 10 "$PG_BIN/psql" -X -qAt -h "$PG_SOCK" \
    -p "$LAB_PG_PORT" -U "$PG_SUPERUSER" -d postgres -c \
    "select current_setting('fsync') || ' ' || current_setting('synchronous_commit')" 2>/dev/null) ||
    return 1
  case $out in
    "on on") REPLY=durable ;;
    "off off") REPLY=fast ;;
    *) REPLY="mixed (fsync, synchronous_commit: $out)" ;;
  esac
}

# What a status line says of mode $1.
mode_words() {
  case $1 in
    durable) printf 'durable (fsync on, synchronous_commit on)' ;;
    fast) printf 'FAST (fsync off, synchronous_commit off: LAB_FAST=1, tests only)' ;;
    *) printf '%s' "$1" ;;
  esac
}

# Warns when the running server's mode (in REPLY) is not what LAB_FAST asks for.
pg_warn_mode() {
  local want=durable
  lab_fast && want=fast
  [[ $REPLY == "$want" ]] && return 0
  warn "postgres: runs $(mode_words "$REPLY"), LAB_FAST=${LAB_FAST:-0} asks for $want: left as it is; to switch: $0 down && LAB_FAST=${LAB_FAST:-0} $0 up"
}

# Single-quotes a value for postgresql.conf.
conf_quote() {
  local v=$1
  printf "'%s'" "${v//\'/\'\'}"
}

pg_initdb() {
  [[ -f $PG_DATA/PG_VERSION ]] && return 0
  say "postgres: creating cluster in $PG_DATA (initdb)"
  if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_SUPERUSER" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C --no-sync \
    >"$PG_BASE/initdb.log" 2>&1; then
    warn "postgres: initdb failed"
    log_tail "$PG_BASE/initdb.log"
    exit 1
  fi
  printf '\n# Added by scripts/lab.sh: port, sockets etc. are rewritten there on every up.\ninclude_if_exists = %s\n' \
    "$(conf_quote lab.conf)" >>"$PG_DATA/postgresql.conf"
}

pg_write_conf() {
  local f=$PG_DATA/lab.conf
  cat >"$f" <<EOF
# Written by scripts/lab.sh on every 'up'; edits here are overwritten.
listen_addresses = '127.0.0.1'
port = $LAB_PG_PORT
unix_socket_directories = $(conf_quote "$PG_SOCK")
unix_socket_permissions = 0700
EOF
  if lab_fast; then
    cat >>"$f" <<EOF
# lab mode: fast (LAB_FAST=1, for tests). Crash safety is not wanted, speed is: fsync=off (and
# friends) means a crash of the server or the machine can lose acknowledged commits or corrupt
# this cluster; never use these settings for real data.
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  else
    cat >>"$f" <<EOF
# lab mode: durable (the default since chapter 09): a commit the program was told about
# survives a crash. full_page_writes is PostgreSQL's default (on).
fsync = on
synchronous_commit = on
EOF
  fi
  if ((IS_ROOT)); then chown "$PG_OS_USER:" "$f"; fi
  chmod 600 "$f"
}

# Pid of the running postmaster of our cluster (in REPLY); false if not running.
pg_running_pid() {
  REPLY=""
  [[ -n $PG_DATA ]] || return 1
  read_pidfile "$PG_DATA/postmaster.pid" || return 1
  pid_is "$REPLY" postgres
}

pg_ready() {
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$LAB_PG_PORT" -t 2 >/dev/null 2>&1
}

pg_wait_ready() {
  local i
  for ((i = 0; i < PG_READY_WAIT_S * 10; i++)); do
    pg_ready && return 0
    sleep 0.1
  done
  return 1
}

# Removes socket lock files (and their sockets) left by a postmaster that is gone. PostgreSQL
# checks these itself with kill(pid, 0), which a zombie passes: where pid 1 does not reap
# orphans, a crashed postmaster's lock would block every later start.
pg_remove_stale_socket_locks() {
  local lock pid
  for lock in "$PG_SOCK"/.s.PGSQL.*.lock; do
    [[ -f $lock ]] || continue
    read_pidfile "$lock" || continue
    pid=$REPLY
    pid_is "$pid" postgres && continue
    say "postgres: removing stale socket lock $lock (process ${pid:-?} is gone)"
    rm -f -- "$lock" "${lock%.lock}"
  done
}

# Creates role and database if missing (idempotent), as the superuser over the unix socket.
pg_ensure_app_db() {
  local out
  if ! out=$(PGCONNECT_TIMEOUT=5 as_pg timeout 30 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
    -h "$PG_SOCK" -p "$LAB_PG_PORT" -U "$PG_SUPERUSER" -d postgres 2>&1 <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PG_APP_USER') THEN
    CREATE ROLE $PG_APP_USER LOGIN CREATEDB PASSWORD '$PG_APP_PASS';
  ELSE
    ALTER ROLE $PG_APP_USER LOGIN CREATEDB PASSWORD '$PG_APP_PASS';
  END IF;
END
\$\$;
SELECT 'CREATE DATABASE $PG_DB OWNER $PG_APP_USER'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$PG_DB')\gexec
SQL
  ); then
    die "postgres: creating role $PG_APP_USER / database $PG_DB failed: $(tr '\n' ' ' <<<"$out")"
  fi
}

pg_up() {
  local pid
  pg_prepare_location
  find_pg_bin # again: an existing cluster pins its PostgreSQL version
  pg_initdb

  if read_pidfile "$PG_DATA/postmaster.pid"; then
    pid=$REPLY
    if pid_is "$pid" postgres; then
      if pg_wait_ready; then
        pg_ensure_app_db
        pg_mode || REPLY=unknown
        say "postgres: already running (pid $pid), 127.0.0.1:$LAB_PG_PORT db $PG_DB, $(mode_words "$REPLY")"
        pg_warn_mode
        return 0
      fi
      die "postgres: pid $pid is running but not ready on 127.0.0.1:$LAB_PG_PORT (started with another LAB_PG_PORT?); run: $0 down && $0 up"
    fi
    say "postgres: removing stale pid file $PG_DATA/postmaster.pid (process ${pid:-?} is gone)"
    rm -f "$PG_DATA/postmaster.pid"
  fi
  require_port_free "$LAB_PG_PORT" LAB_PG_PORT "PostgreSQL port"
  pg_remove_stale_socket_locks

  pg_write_conf
  if ! as_pg timeout $((PG_START_WAIT_S + 5)) "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" \
    -w -t "$PG_START_WAIT_S" -s start </dev/null >/dev/null 2>&1 9>&-; then
    warn "postgres: failed to start (pg_ctl start)"
    log_tail "$PG_LOG"
    exit 1
  fi
  if ! pg_wait_ready; then
    warn "postgres: started but not ready on 127.0.0.1:$LAB_PG_PORT after ${PG_READY_WAIT_S}s"
    log_tail "$PG_LOG"
    exit 1
  fi
  pg_ensure_app_db
  pg_running_pid || true
  pid=${REPLY:-?}
  pg_mode || REPLY=unknown
  say "postgres: started (pid $pid), 127.0.0.1:$LAB_PG_PORT db $PG_DB user $PG_APP_USER, data $PG_DATA, $(mode_words "$REPLY")"
}

pg_down() {
  local pid
  if ! pg_resolve || [[ ! -f $PG_DATA/PG_VERSION ]]; then
    say "postgres: not running (no cluster)"
    return 0
  fi
  if ! read_pidfile "$PG_DATA/postmaster.pid"; then
    say "postgres: not running"
    return 0
  fi
  pid=$REPLY
  if ! pid_is "$pid" postgres; then
    say "postgres: not running (removed stale pid file, process ${pid:-?} is gone)"
    rm -f "$PG_DATA/postmaster.pid"
    return 0
  fi
  find_pg_bin
  if ! as_pg timeout $((PG_START_WAIT_S + 5)) "$PG_BIN/pg_ctl" -D "$PG_DATA" \
    -m fast -w -t "$PG_START_WAIT_S" -s stop </dev/null >/dev/null 2>&1; then
    warn "postgres: pg_ctl stop failed (pid $pid)"
    log_tail "$PG_LOG"
    exit 1
  fi
  say "postgres: stopped (pid $pid)"
}

# Prints the status line; true if healthy.
pg_status() {
  local pid
  if ! pg_resolve || [[ ! -f $PG_DATA/PG_VERSION ]]; then
    say "postgres: stopped (no cluster yet)"
    return 1
  fi
  if ! read_pidfile "$PG_DATA/postmaster.pid"; then
    say "postgres: stopped"
    return 1
  fi
  pid=$REPLY
  if ! pid_is "$pid" postgres; then
    say "postgres: stopped (stale pid file: process ${pid:-?} is gone)"
    return 1
  fi
  find_pg_bin
  if pg_ready; then
    pg_mode || REPLY=unknown
    say "postgres: running, healthy (pid $pid), 127.0.0.1:$LAB_PG_PORT db $PG_DB, data $PG_DATA, $(mode_words "$REPLY")"
    return 0
  fi
  say "postgres: running (pid $pid) but NOT ready on 127.0.0.1:$LAB_PG_PORT"
  return 1
}

# ---------------------------------------------------------------------------------------------
# commands

cmd_up() {
  # Check every binary before starting anything.
  find_nats_bin
  pg_resolve || true
  find_pg_bin
  take_lock
  # Check the ports of every server that is not running yet before starting anything,
  # so a busy port does not leave the lab half up.
  if ! { read_pidfile "$NATS_PIDFILE" && pid_is "$REPLY" nats-server; }; then
    require_port_free "$LAB_NATS_PORT" LAB_NATS_PORT "NATS client port"
    require_port_free "$LAB_NATS_MON_PORT" LAB_NATS_MON_PORT "NATS monitor port"
  fi
  if ! { pg_resolve && pg_running_pid; }; then
    require_port_free "$LAB_PG_PORT" LAB_PG_PORT "PostgreSQL port"
  fi
  nats_up
  pg_up
}

cmd_down() {
  if [[ ! -d $LAB_DIR ]]; then
    say "nats: not running"
    say "postgres: not running (no cluster)"
    return 0
  fi
  take_lock
  nats_down
  pg_down
}

cmd_status() {
  local rc=0
  nats_status || rc=3
  pg_status || rc=3
  return "$rc"
}

# Sets DB to the database for argument $1: chapter NN's (3 or 03), or the book's without one.
db_for() {
  local nn=${1:-}
  if [[ -z $nn ]]; then
    DB=$PG_DB
  elif [[ $nn =~ ^(ch)?[0-9]{1,2}$ ]]; then
    nn=${nn#ch}
    DB=$(printf '%s_ch%02d' "$PG_DB" "$((10#$nn))")
  else
    die "'$nn' is not a chapter number (e.g. 03)"
  fi
}

# The lab must be answering; PG_BIN and PG_SOCK are set.
pg_need_ready() {
  pg_resolve || true
  find_pg_bin
  pg_ready || die "postgres is not answering on 127.0.0.1:$LAB_PG_PORT; start the lab: make lab-up"
}

# Runs SQL as the superuser over the unix socket; dies with MSG on failure.
pg_admin_sql() {
  local msg=$1 sql=$2 out
  if ! out=$(PGCONNECT_TIMEOUT=5 as_pg timeout 60 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
    -h "$PG_SOCK" -p "$LAB_PG_PORT" -U "$PG_SUPERUSER" -d postgres -c "$sql" 2>&1); then
    die "postgres: $msg: $(tr '\n' ' ' <<<"$out")"
  fi
}

pg_db_exists() {
  local out
  out=$(PGCONNECT_TIMEOUT=5 as_pg timeout 30 "$PG_BIN/psql" -X -qAt -h "$PG_SOCK" \
    -p "$LAB_PG_PORT" -U "$PG_SUPERUSER" -d postgres \
    -c "SELECT 1 FROM pg_database WHERE datname = '$1'" 2>/dev/null) || return 1
  [[ $out == 1 ]]
}

cmd_db() {
  [[ -n ${1:-} ]] || die "usage: $0 db NN"
  db_for "$1"
  pg_need_ready
  pg_db_exists "$DB" && return 0
  pg_admin_sql "creating database $DB failed" "CREATE DATABASE $DB OWNER $PG_APP_USER"
  say "postgres: created database $DB"
}

cmd_reset_db() {
  local arg=${1:-}
  [[ -n $arg ]] || die "usage: $0 reset-db NN|NAME (e.g. 03 for mallbots_ch03)"
  if [[ $arg =~ ^(ch)?[0-9]{1,2}$ ]]; then
    db_for "$arg"
  elif [[ $arg =~ ^[a-z_][a-z0-9_]{0,62}$ && $arg != postgres && $arg != template* ]]; then
    DB=$arg
  else
    die "reset-db: '$arg' is neither a chapter number nor a database of the lab's"
  fi
  pg_need_ready
  pg_admin_sql "dropping database $DB failed" "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
  pg_admin_sql "creating database $DB failed" "CREATE DATABASE $DB OWNER $PG_APP_USER"
  say "postgres: database $DB is empty now (dropped with any data it held, then created again)"
}

# The chapters share the lab's one stream: groups a chapter made carry on in the next one, and
# a group new to a chapter starts at the beginning of the stream, with the earlier chapters'
# messages. This starts over with nothing.
cmd_reset_stream() {
  local was_running=false
  take_lock
  if read_pidfile "$NATS_PIDFILE" && pid_is "$REPLY" nats-server; then
    was_running=true
    nats_down
  fi
  rm -rf -- "$NATS_STORE"
  say "nats: store $NATS_STORE deleted (the stream, its consumer groups and dead letters)"
  if $was_running; then
    find_nats_bin
    nats_up
  fi
}

# kill -9 of the nats-server (a crash; the store stays). Nothing running: says so, exit 0.
cmd_kill_nats() {
  local pid i
  take_lock
  if ! read_pidfile "$NATS_PIDFILE" || ! pid_is "$REPLY" nats-server; then
    say "nats: not running"
    return 0
  fi
  pid=$REPLY
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    pid_is "$pid" nats-server || break
    sleep 0.1
  done
  pid_is "$pid" nats-server && die "nats: pid $pid survived SIGKILL for 5 s"
  rm -f "$NATS_PIDFILE"
  printf '=== %s lab.sh kill-nats: SIGKILL to pid %s
' "$(date '+%F %T')" >>"$NATS_LOG"
  say "nats: killed (kill -9 pid $pid)"
}

cmd_restart_nats() {
  find_nats_bin
  if read_pidfile "$NATS_PIDFILE" && pid_is "$REPLY" nats-server; then
    cmd_kill_nats
  fi
  take_lock
  nats_up
}

# Stops PostgreSQL (fast or immediate) and starts it again in the mode it ran in.
cmd_restart_pg() {
  local how=${1:-fast} pid mode
  [[ $how == fast || $how == immediate ]] || die "usage: $0 restart-pg [fast|immediate]"
  pg_resolve || die "postgres: no cluster; run: $0 up"
  find_pg_bin
  pg_running_pid || die "postgres: not running; run: $0 up"
  pid=$REPLY
  pg_mode || die "postgres: pid $pid does not answer; run: $0 down && $0 up"
  mode=$REPLY
  case $mode in
    fast) LAB_FAST=1 ;;
    durable) LAB_FAST=0 ;;
    *) die "postgres: runs $mode, set by hand: restart it yourself (down, up)" ;;
  esac
  take_lock
  if ! as_pg timeout $((PG_START_WAIT_S + 5)) "$PG_BIN/pg_ctl" -D "$PG_DATA" \
    -m "$how" -w -t "$PG_START_WAIT_S" -s stop </dev/null >/dev/null 2>&1; then
    warn "postgres: pg_ctl stop -m $how failed (pid $pid)"
    log_tail "$PG_LOG"
    exit 1
  fi
  say "postgres: stopped (pg_ctl stop -m $how, pid $pid)"
  pg_up
}

cmd_psql() {
  DB=$PG_DB
  if [[ ${1:-} =~ ^(ch)?[0-9]{1,2}$ ]]; then
    db_for "$1"
    shift
  fi
  pg_need_ready
  if [[ $DB != "$PG_DB" ]] && ! pg_db_exists "$DB"; then
    die "database $DB does not exist yet: make run CH=${DB#"$PG_DB"_ch} creates it"
  fi
  PGPASSWORD=$PG_APP_PASS PGCONNECT_TIMEOUT=5 exec "$PG_BIN/psql" \
    -h 127.0.0.1 -p "$LAB_PG_PORT" -U "$PG_APP_USER" -d "$DB" "$@"
}

cmd_env() {
  db_for "${1:-}"
  printf "export PG_CONN='host=127.0.0.1 port=%s dbname=%s user=%s password=%s'\n" \
    "$LAB_PG_PORT" "$DB" "$PG_APP_USER" "$PG_APP_PASS"
  printf 'export NATS_URL=nats://127.0.0.1:%s\n' "$LAB_NATS_PORT"
  printf 'export LAB_PG_PORT=%s\n' "$LAB_PG_PORT"
  printf 'export LAB_NATS_PORT=%s\n' "$LAB_NATS_PORT"
  printf 'export LAB_NATS_MON_PORT=%s\n' "$LAB_NATS_MON_PORT"
}

cmd=${1:-}
[[ $# -gt 0 ]] && shift
case $cmd in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  psql) cmd_psql "$@" ;;
  env) cmd_env "$@" ;;
  db) cmd_db "$@" ;;
  reset-db) cmd_reset_db "$@" ;;
  reset-stream) cmd_reset_stream ;;
  kill-nats) cmd_kill_nats ;;
  restart-nats) cmd_restart_nats ;;
  restart-pg) cmd_restart_pg "$@" ;;
  -h | --help | help) usage ;;
  *)
    usage >&2
    exit 2
    ;;
esac
