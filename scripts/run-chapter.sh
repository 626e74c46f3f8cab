#!/usr/bin/env bash
# run-chapter.sh NN -- runs chapter NN's program in the foreground against the lab.
#
# Called by `make run [CH=NN]` after the lab is up (scripts/lab.sh up) and the chapter is built
# (build/chNN/mallbots). Takes the lab's connection settings (PG_CONN, NATS_URL) from
# `scripts/lab.sh env`, prints where the program listens and two curl commands to try, then
# replaces itself with the program (exec), so Ctrl-C reaches it as SIGINT and it shuts down
# cleanly. Settings already in the environment win over the lab's and the defaults (PG_CONN,
# NATS_URL, WEB_PORT, RPC_PORT, LOG_LEVEL, ...; see shared/cfg.h).
set -euo pipefail
cd "$(dirname "$0")/.."

nn=${1:-}
nn=${nn#ch}
if [[ ! $nn =~ ^[0-9]{2}$ ]]; then
    echo "usage: $0 NN   (e.g. $0 03)" >&2
    exit 2
fi
bin=build/ch$nn/mallbots
if [[ ! -x $bin ]]; then
    echo "run: $bin not found; build it first: make ch$nn" >&2
    exit 1
fi

lab_env=$(scripts/lab.sh env) || {
    echo "run: scripts/lab.sh env failed" >&2
    exit 1
}
# PG_CONN / NATS_URL set by the user win over the lab's (e.g. to run on another database)
user_pg=${PG_CONN:-} user_nats=${NATS_URL:-}
eval "$lab_env"
PG_CONN=${user_pg:-$PG_CONN} NATS_URL=${user_nats:-$NATS_URL}
export PG_CONN NATS_URL
if ! scripts/lab.sh status > /dev/null 2>&1; then
    echo "run: the lab is not running; start it with: make lab-up" >&2
    exit 1
fi

web_host=${WEB_HOST:-127.0.0.1} web_port=${WEB_PORT:-8080}
rpc_host=${RPC_HOST:-127.0.0.1} rpc_port=${RPC_PORT:-8085}
web_port=${web_port#:} rpc_port=${rpc_port#:}
base="http://$web_host:$web_port"
# PG_CONN without its password
shown_pg=$(sed -E -e "s/password=('([^'\\\\]|\\\\.)*'|[^ ]*)/password=.../" \
    -e 's#(://[^:/@]*):[^@/]*@#\1:...@#' <<< "$PG_CONN")

cat << EOF
MallBots, chapter $nn ($bin)
  REST API  $base        (e.g. $base/api/stores)
  RPC       http://$rpc_host:$rpc_port/rpc
  database  $shown_pg

Try, in another terminal:
  curl -s $base/api/stores
  curl -s -X POST $base/api/customers -H 'Content-Type: application/json' \\
       -d '{"name":"Customer ABC","smsNumber":"555-555-1212"}'

Ctrl-C stops it (clean shutdown). Logs follow.
EOF

exec "$bin"
