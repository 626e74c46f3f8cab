#!/usr/bin/env bash
# run-chapter.sh NN -- what `make run [CH=NN]` does: checks that chapter NN has a program, starts
# the lab (scripts/lab.sh up), builds build/chNN/mallbots (make chNN), then runs it in the
# foreground against the lab.
# run-chapter.sh check NN -- only the first step (used by make psql): exit 2 with one line saying
# why when NN is no chapter or a chapter without a program.
#
# NN may be given as 3, 03 or ch03. The lab's settings come from `scripts/lab.sh env NN`: chapter NN
# runs on a database of its own, mallbots_chNN (created on first use), so chapters run one after
# the other keep their data. PG_CONN and NATS_URL set by the user win over the lab's (e.g. the
# book's database mallbots); so do the other settings (WEB_PORT, RPC_PORT, LOG_LEVEL, ...; see
# shared/cfg.h). The script prints where the program listens and two curl commands to try, then
# replaces itself with the program (exec), so Ctrl-C reaches it as SIGINT and it shuts down
# cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

only_check=0
if [[ ${1:-} == check ]]; then
    only_check=1
    shift
fi
arg=${1:-}
nn=${arg#ch}
if [[ ! $nn =~ ^[0-9]{1,2}$ ]]; then
    echo "usage: make run CH=NN (e.g. make run CH=03); got '$arg'" >&2
    exit 2
fi
nn=$(printf '%02d' "$((10#$nn))")
runnable=$(for n in $(scripts/chapter.sh list); do
    scripts/chapter.sh runnable "$n" && printf '%s ' "$n"
done)
if ! dir=$(scripts/chapter.sh dir "$nn" 2> /dev/null); then
    echo "run: there is no chapter $nn; chapters with a program: ${runnable% }" >&2
    exit 2
fi
if [[ " $runnable" != *" $nn "* ]]; then
    echo "run: chapter $nn is design material and has no program (read $dir/README.md);" \
        "chapters with a program: ${runnable% }" >&2
    exit 2
fi
((only_check)) && exit 0

# the lab: one line for each server it had to start (none when it was running)
if ! lab_out=$(scripts/lab.sh up 2>&1); then
    printf '%s\n' "$lab_out" >&2
    exit 1
fi
grep -v 'already running' <<< "$lab_out" || true
make --no-print-directory "ch$nn"

# PG_CONN / NATS_URL set by the user win over the lab's
user_pg=${PG_CONN:-} user_nats=${NATS_URL:-}
eval "$(scripts/lab.sh env "$nn")"
NATS_URL=${user_nats:-$NATS_URL}
if [[ -n $user_pg ]]; then
    PG_CONN=$user_pg
    # PG_CONN without its password
    shown_db="$(sed -E -e "s/password=('([^'\\\\]|\\\\.)*'|[^ ]*)/password=.../" \
        -e 's#(://[^:/@]*):[^@/]*@#\1:...@#' <<< "$PG_CONN") (your PG_CONN)"
else
    scripts/lab.sh db "$nn"
    shown_db="mallbots_ch$nn on 127.0.0.1:$LAB_PG_PORT (chapter $nn's own; make psql CH=$nn)"
fi
export PG_CONN NATS_URL

bin=build/ch$nn/mallbots
web_host=${WEB_HOST:-127.0.0.1} web_port=${WEB_PORT:-8080}
rpc_host=${RPC_HOST:-127.0.0.1} rpc_port=${RPC_PORT:-8085}
web_port=${web_port#:} rpc_port=${rpc_port#:}
base="http://$web_host:$web_port"

cat << EOF
MallBots, chapter $nn ($bin)
  REST API  $base        (e.g. $base/api/stores)
  console   $base/       (open it in a browser: every route, with a form; $base/openapi.json)$(
    ((10#$nn >= 6)) && printf '\n            %s' "$base/#events (the messages, live) and $base/#story (an order's story); $base/asyncapi.json")
  RPC       http://$rpc_host:$rpc_port/rpc
  database  $shown_db

Try, in another terminal:
  curl -s $base/api/stores
  curl -s -X POST $base/api/customers -H 'Content-Type: application/json' \\
       -d '{"name":"Customer ABC","smsNumber":"555-555-1212"}'

Ctrl-C stops it (clean shutdown). Logs follow.
EOF

exec "$bin"
