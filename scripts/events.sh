#!/usr/bin/env bash
# events.sh NN [ARGS...] -- what `make events [CH=NN] [ARGS="..."]` does: builds chapter NN
# (make chNN) and runs its stream tool build/chNN/events with ARGS against the lab's nats-server
# (docs/events.md). The tool exists from chapter 06 on.
#
# NATS_URL comes from `scripts/lab.sh env` (the lab's port, LAB_NATS_PORT); a NATS_URL or
# NATS_STREAM set by the user wins. The lab is not started here: the tool only looks, and says
# so in one line when nothing answers (make lab-up, or make run, starts it). The builds print on
# stderr, so stdout is only the tool's output (ARGS="tail --json" | jq ... works).
set -euo pipefail
cd "$(dirname "$0")/.."

arg=${1:-}
shift || true
nn=${arg#ch}
if [[ ! $nn =~ ^[0-9]{1,2}$ ]]; then
    echo "usage: make events [CH=NN] [ARGS=\"tail|list|info|dead ...\"]; got CH='$arg'" >&2
    exit 2
fi
nn=$(printf '%02d' "$((10#$nn))")
if ! scripts/chapter.sh dir "$nn" > /dev/null 2>&1; then
    echo "events: there is no chapter $nn" >&2
    exit 2
fi
if ! scripts/chapter.sh resolve "$nn" | cut -f1 | grep -x 'cmd/events/main.c' > /dev/null; then
    echo "events: chapter $nn has no stream tool (it comes with chapter 06, asynchronous messaging)" >&2
    exit 2
fi
make --no-print-directory "ch$nn" >&2

user_nats=${NATS_URL:-}
eval "$(scripts/lab.sh env "$nn")"
NATS_URL=${user_nats:-$NATS_URL}
export NATS_URL
exec "build/ch$nn/events" "$@"
