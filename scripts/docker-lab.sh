#!/usr/bin/env bash
# scripts/docker-lab.sh -- the docker lab: PostgreSQL, nats-server and one chapter's program in
# containers (docker/compose.yml), built from one Debian base (docker/Dockerfile).
#
# Usage: scripts/docker-lab.sh COMMAND        (the make targets docker-* and test-docker)
#   base     build the base image mallbots/debian:bookworm with debootstrap (no registry needed)
#   build    build the images: <MB_IMAGES>/postgres:15, nats:2.9, app:chNN
#   up       build the images (cached), start the lab and chapter CH's program, wait until healthy
#   down     stop and remove the containers; the data stays in the volumes
#   logs     the containers' recent output (MB_LOG_LINES lines, default 100)
#   status   one line per container; exit 0 when all three are healthy, 3 otherwise
#   wipe     down, and delete the volumes (the database and the JetStream store)
#   clean    wipe, remove the images and the base; a private engine's data-root too
#   test     build, start, walk an order, run the chapter's e2e scenarios against the containers,
#            check that the volumes keep the data, then remove everything it made
#
# Settings (environment): CH (newest runnable chapter), MB_IMAGES (mallbots), MB_PG_PORT (15432),
# MB_NATS_PORT (14222), MB_NATS_MON_PORT (18222), MB_WEB_PORT (8080), MB_RPC_PORT (8085): the
# host's 127.0.0.1 ports, the local lab's by default (so stop one lab before starting the other);
# MB_NET = auto | host | bridge (docker/net-*.yml; auto: host when the engine has no bridge
# network); MB_BASE (the base image; default: debian:bookworm-slim if present or pullable, else
# the debootstrap base); MB_COMPOSE (the compose command; default `docker compose`, else
# `docker-compose`); MB_DEBIAN_MIRROR (debootstrap's mirror, http://deb.debian.org/debian).
#
# The engine: the one `docker` reaches (DOCKER_HOST or the default socket). When none answers
# and we are root, a private dockerd is started (no bridge, no iptables changes, overlay2 or else
# vfs storage; data in build/docker-engine/, build/docker-test/ for `test`), used through
# DOCKER_HOST and stopped again by `down`, `wipe`, `clean` and at the end of `test`. Missing
# Debian packages (docker.io, docker-compose, debootstrap) are installed as root (sudo otherwise).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$PWD

CH=${CH:-$(scripts/chapter.sh newest)}
CH=${CH#ch}
export MB_CH=$CH
export MB_IMAGES=${MB_IMAGES:-mallbots}
export MB_PG_PORT=${MB_PG_PORT:-15432} MB_NATS_PORT=${MB_NATS_PORT:-14222}
export MB_NATS_MON_PORT=${MB_NATS_MON_PORT:-18222} MB_WEB_PORT=${MB_WEB_PORT:-8080}
export MB_RPC_PORT=${MB_RPC_PORT:-8085}
PROJECT=${MB_PROJECT:-mallbots}
ENGINE_DIR=${MB_ENGINE_DIR:-$REPO/build/docker-engine}
BASE_DIR=$REPO/build/docker-base
BASE_TAR=$BASE_DIR/bookworm-minbase.tar
LOCAL_BASE=mallbots/debian:bookworm
HUB_BASE=debian:bookworm-slim
MIRROR=${MB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
UP_WAIT_S=${MB_UP_WAIT_S:-180}
SERVICES=(postgres nats app)

say() { printf 'docker-lab: %s\n' "$*"; }
die() {
    printf 'docker-lab: %s\n' "$*" >&2
    exit 1
}
usage() { sed -n '5,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

for v in MB_PG_PORT MB_NATS_PORT MB_NATS_MON_PORT MB_WEB_PORT MB_RPC_PORT; do
    [[ ${!v} =~ ^[0-9]{1,5}$ ]] && ((${!v} >= 1 && ${!v} <= 65535)) || die "$v='${!v}' is not a port number"
done
[[ $CH =~ ^[0-9]{2}$ ]] && scripts/chapter.sh runnable "$CH" 2> /dev/null ||
    die "chapter '$CH' has no program to run (runnable: $(scripts/chapter.sh newest) and earlier)"

# ---- packages -----------------------------------------------------------------------------------
# Installs Debian packages (root: apt-get; else sudo; else says what to run).
install_pkgs() {
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo > /dev/null 2>&1 || die "missing: $*; install them as root: apt-get install -y $*"
        sudo=(sudo)
    fi
    command -v apt-get > /dev/null 2>&1 || die "missing: $* (Debian packages); install their equivalents"
    say "installing Debian packages: $*"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" > /dev/null
}

# ---- the engine ---------------------------------------------------------------------------------
PRIVATE=0 STARTED_ENGINE=0 USER_DOCKER_HOST=${DOCKER_HOST:-}
EXEC_ROOT=/run/mallbots-dockerd-$(printf %s "$ENGINE_DIR" | sha1sum | cut -c1-8)
PRIVATE_HOST=unix://$EXEC_ROOT/docker.sock

engine_answers() { timeout 20 docker version --format '{{.Server.Version}}' > /dev/null 2>&1; }

# Finds an engine: the user's, else our private one if it runs; with "start", starts the private
# one when there is none. Sets DOCKER_HOST for the private engine. False if none (without start).
use_engine() {
    command -v docker > /dev/null 2>&1 || { [[ ${1:-} == start ]] && install_pkgs docker.io; } ||
        die "no docker command: install Debian's docker.io (or Docker's own packages)"
    if ((!PRIVATE)); then
        engine_answers && return 0
        [[ -z $USER_DOCKER_HOST ]] ||
            die "DOCKER_HOST=$USER_DOCKER_HOST does not answer (docker version); start that engine or unset DOCKER_HOST"
        export DOCKER_HOST=$PRIVATE_HOST
        PRIVATE=1
    fi
    engine_answers && return 0
    [[ ${1:-} == start ]] || return 1
    engine_start
}

engine_pid() { # pid of our private dockerd, if it runs
    local pid
    pid=$(cat "$ENGINE_DIR/dockerd.pid" 2> /dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ && $(cat "/proc/$pid/comm" 2> /dev/null) == dockerd ]] && echo "$pid"
}

engine_start() {
    if ((EUID != 0)); then
        die "no Docker engine answers (docker version) and a private one needs root: start your engine (e.g. sudo systemctl start docker) and make sure you may use it (group docker)"
    fi
    command -v dockerd > /dev/null 2>&1 || install_pkgs docker.io
    command -v dockerd > /dev/null 2>&1 || die "dockerd not found after installing docker.io"
    mkdir -p "$ENGINE_DIR/data" "$EXEC_ROOT"
    echo '{}' > "$ENGINE_DIR/daemon.json"
    local driver pid i
    for driver in ${MB_STORAGE_DRIVER:-overlay2 vfs}; do
        # No bridge and no iptables rules: containers use host networking (docker/net-host.yml).
        setsid dockerd --config-file "$ENGINE_DIR/daemon.json" --data-root "$ENGINE_DIR/data" \
            --exec-root "$EXEC_ROOT" --pidfile "$ENGINE_DIR/dockerd.pid" --host "$PRIVATE_HOST" \
            --bridge=none --iptables=false --ip-masq=false --storage-driver="$driver" \
            < /dev/null >> "$ENGINE_DIR/dockerd.log" 2>&1 &
        pid=$!
        for ((i = 0; i < 60; i++)); do
            engine_answers && break
            kill -0 "$pid" 2> /dev/null || break
            sleep 0.5
        done
        if engine_answers; then
            STARTED_ENGINE=1
            say "started a private dockerd (pid $pid, storage $driver, data $ENGINE_DIR/data, DOCKER_HOST=$PRIVATE_HOST)"
            return 0
        fi
        kill "$pid" 2> /dev/null || true
        wait "$pid" 2> /dev/null || true
        say "dockerd did not start with storage driver $driver"
    done
    tail -n 15 "$ENGINE_DIR/dockerd.log" >&2
    die "could not start a private dockerd (log: $ENGINE_DIR/dockerd.log)"
}

# Stops our private dockerd (if it runs) and unmounts what it left (its netns mount).
engine_stop() {
    local pid i m
    if pid=$(engine_pid); then
        kill -TERM "$pid"
        for ((i = 0; i < 60; i++)); do
            [[ -d /proc/$pid ]] || break
            sleep 0.5
        done
        [[ -d /proc/$pid ]] && { kill -KILL "$pid" 2> /dev/null || true; }
        say "stopped the private dockerd (pid $pid)"
    fi
    for m in $(awk -v a="$EXEC_ROOT/" -v b="$ENGINE_DIR/" 'index($2, a) == 1 || index($2, b) == 1 {print $2}' /proc/mounts | sort -r); do
        umount "$m" 2> /dev/null || umount -l "$m" 2> /dev/null || true
    done
    rm -rf "$EXEC_ROOT"
}

# ---- compose ------------------------------------------------------------------------------------
COMPOSE=() NET=""
use_compose() {
    if [[ -n ${MB_COMPOSE:-} ]]; then
        read -r -a COMPOSE <<< "$MB_COMPOSE"
    elif docker compose version > /dev/null 2>&1; then
        COMPOSE=(docker compose)
    elif command -v docker-compose > /dev/null 2>&1; then
        COMPOSE=(docker-compose)
    else
        install_pkgs docker-compose
        COMPOSE=(docker-compose)
    fi
    NET=${MB_NET:-auto}
    if [[ $NET == auto ]]; then
        NET=bridge
        if ((PRIVATE)) || ! docker network inspect bridge > /dev/null 2>&1; then NET=host; fi
    fi
    [[ $NET == host || $NET == bridge ]] || die "MB_NET='$NET': host, bridge or auto"
}
compose() { "${COMPOSE[@]}" -p "$PROJECT" -f docker/compose.yml -f "docker/net-$NET.yml" "$@"; }
container_of() { compose ps -q "$1" 2> /dev/null | head -n 1; }

# ---- images -------------------------------------------------------------------------------------
image_exists() { docker image inspect "$1" > /dev/null 2>&1; }

BASE_MADE=0 # 1 when this run made the base tarball (test removes it again)
base_build() {
    ((EUID == 0)) || die "debootstrap needs root: run 'make docker-base' as root, or set MB_BASE to a Debian 12 image you have"
    command -v debootstrap > /dev/null 2>&1 || install_pkgs debootstrap
    local root=$BASE_DIR/rootfs t0=$SECONDS
    rm -rf "$root"
    mkdir -p "$BASE_DIR"
    say "debootstrap --variant=minbase bookworm from $MIRROR (about a minute)"
    if ! debootstrap --variant=minbase bookworm "$root" "$MIRROR" > "$BASE_DIR/debootstrap.log" 2>&1; then
        tail -n 15 "$BASE_DIR/debootstrap.log" >&2
        die "debootstrap failed (log: $BASE_DIR/debootstrap.log)"
    fi
    # As debian:bookworm-slim: the same three suites, no documentation, apt keeps no caches.
    rm -f "$root/etc/apt/sources.list"
    cat > "$root/etc/apt/sources.list.d/debian.sources" << EOF
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MB_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
        'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
        'path-exclude /usr/share/locale/*' > "$root/etc/dpkg/dpkg.cfg.d/slim"
    printf '%s\n' 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb || true"; };' \
        'APT::Keep-Downloaded-Packages "false";' > "$root/etc/apt/apt.conf.d/docker-clean"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*
    tar --numeric-owner -C "$root" -cf "$BASE_TAR.tmp" . && mv "$BASE_TAR.tmp" "$BASE_TAR"
    rm -rf "$root"
    BASE_MADE=1
    say "base rootfs: $BASE_TAR ($(du -h "$BASE_TAR" | cut -f1), $((SECONDS - t0)) s)"
}
base_import() {
    docker import --change 'CMD ["bash"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        "$BASE_TAR" "$LOCAL_BASE" > /dev/null
    say "imported $LOCAL_BASE from $BASE_TAR"
}

# Picks the base image (MB_BASE): Docker Hub's when present or pullable, else the local one.
choose_base() {
    if [[ -n ${MB_BASE:-} ]]; then
        image_exists "$MB_BASE" || docker pull "$MB_BASE" > /dev/null || die "MB_BASE=$MB_BASE: no such image"
    elif image_exists "$HUB_BASE"; then
        MB_BASE=$HUB_BASE
    elif image_exists "$LOCAL_BASE"; then
        MB_BASE=$LOCAL_BASE
    elif [[ -f $BASE_TAR ]]; then
        base_import
        MB_BASE=$LOCAL_BASE
    elif timeout 60 docker pull -q "$HUB_BASE" > /dev/null 2>&1; then
        MB_BASE=$HUB_BASE
    else
        say "no registry answers for $HUB_BASE: building a local base instead"
        base_build
        base_import
        MB_BASE=$LOCAL_BASE
    fi
    export MB_BASE
    say "base image: $MB_BASE"
}

# The local lab's server packages, pinned to the versions installed here (MB_MATCH_LOCAL=0: the
# newest of the base's suites), so both labs run the same servers.
local_pins() {
    local bin major v
    PINS=()
    [[ ${MB_MATCH_LOCAL:-1} == 1 ]] && command -v dpkg-query > /dev/null 2>&1 || return 0
    if bin=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n 1) && [[ -n $bin ]]; then
        major=$(basename "$(dirname "$bin")")
        v=$(dpkg-query -W -f '${Version}' "postgresql-$major" 2> /dev/null) &&
            PINS+=(--build-arg "PG_PACKAGE=postgresql-$major=$v")
    fi
    v=$(dpkg-query -W -f '${Version}' nats-server 2> /dev/null) && PINS+=(--build-arg "NATS_PACKAGE=nats-server=$v")
    return 0
}

images_build() {
    local target tag t0 args=(-f docker/Dockerfile --build-arg "BASE=$MB_BASE" --build-arg "CH=$CH")
    [[ $NET == host ]] && args+=(--network host)
    # The legacy builder where buildx is missing (a newer client would refuse to build).
    docker buildx version > /dev/null 2>&1 || export DOCKER_BUILDKIT=0
    local_pins
    mkdir -p build/docker-logs
    for target in postgres nats app; do
        case $target in
            postgres) tag=$MB_IMAGES/postgres:15 ;;
            nats) tag=$MB_IMAGES/nats:2.9 ;;
            app) tag=$MB_IMAGES/app:ch$CH ;;
        esac
        t0=$SECONDS
        if ! docker build "${args[@]}" "${PINS[@]}" --target "$target" -t "$tag" . > "build/docker-logs/build-$target.log" 2>&1; then
            if ((${#PINS[@]})) && grep -q "Version '.*' for '.*' was not found" "build/docker-logs/build-$target.log"; then
                say "the local lab's versions (${PINS[*]}) are not in the mirror any more: building with the newest"
                PINS=()
                docker build "${args[@]}" --target "$target" -t "$tag" . > "build/docker-logs/build-$target.log" 2>&1
            else
                false
            fi || {
                tail -n 25 "build/docker-logs/build-$target.log" >&2
                die "building $tag failed (log: build/docker-logs/build-$target.log)"
            }
        fi
        say "image $tag ($((SECONDS - t0)) s)"
    done
}

# ---- the lab ------------------------------------------------------------------------------------
port_in_use() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2> /dev/null; }

lab_up() {
    local svc state deadline ids=()
    if [[ -z $(compose ps -q 2> /dev/null) ]]; then
        for v in MB_PG_PORT MB_NATS_PORT MB_NATS_MON_PORT MB_WEB_PORT MB_RPC_PORT; do
            port_in_use "${!v}" && die "port ${!v} on 127.0.0.1 ($v) is in use (the local lab? make lab-down), or choose another: $v=<port>"
        done
    fi
    compose up -d --no-build > build/docker-logs/compose-up.log 2>&1 || {
        cat build/docker-logs/compose-up.log >&2
        die "compose up failed"
    }
    for svc in "${SERVICES[@]}"; do
        ids+=("$(container_of "$svc")")
        [[ -n ${ids[-1]} ]] || die "compose up started no $svc container"
    done
    deadline=$((SECONDS + UP_WAIT_S))
    while :; do
        state=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "${ids[@]}" | tr '\n' ' ')
        [[ $state == "healthy healthy healthy " ]] && return 0
        if [[ $(docker inspect -f '{{.State.Status}}' "${ids[@]}") == *exited* ]]; then
            compose logs --no-color --tail=30 >&2 || true
            die "a container exited during start-up (postgres nats app: $state)"
        fi
        ((SECONDS < deadline)) || break
        sleep 0.5
    done
    compose logs --no-color --tail=30 >&2 || true
    die "not healthy after ${UP_WAIT_S}s (postgres nats app: $state)"
}

lab_banner() {
    local api="http://127.0.0.1:$MB_WEB_PORT"
    cat << EOF
docker-lab: up: chapter $CH ($MB_IMAGES/app:ch$CH), ${NET} networking, compose: ${COMPOSE[*]}
  REST API    $api   (e.g. curl -s $api/api/stores)
  RPC         http://127.0.0.1:$MB_RPC_PORT/rpc
  PostgreSQL  127.0.0.1:$MB_PG_PORT  db mallbots  user mallbots_user  password mallbots_pass
  NATS        nats://127.0.0.1:$MB_NATS_PORT   monitoring http://127.0.0.1:$MB_NATS_MON_PORT
  a whole order:  scripts/order-walk.sh $api
  make docker-logs | docker-status | docker-down (keeps the data) | docker-wipe (deletes it)
EOF
}

cmd_status() {
    local svc id rc=0 line
    if ! use_engine; then
        say "engine: none answers (and no private dockerd runs): the docker lab is down"
        return 3
    fi
    use_compose
    say "engine: $(docker version --format '{{.Server.Version}}')$( ((PRIVATE)) && echo " (private dockerd, $DOCKER_HOST)"), ${NET} networking"
    for svc in "${SERVICES[@]}"; do
        id=$(container_of "$svc")
        if [[ -z $id ]]; then
            say "$svc: not running"
            rc=3
            continue
        fi
        line=$(docker inspect -f '{{.Config.Image}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id")
        say "$svc: $line"
        [[ $line == *" healthy" ]] || rc=3
    done
    return "$rc"
}

# ---- test ---------------------------------------------------------------------------------------
PASSED=0 FAILED=0 FAILURES=()
TLOG=build/test-logs/docker
check() { # name command...: one check (in a subshell), its output in TLOG/<name>.log
    local name=$1 log
    shift
    log=$TLOG/${name//[^A-Za-z0-9._-]/_}.log
    local ok=0 p=1 f=1 counts
    ("$@") > "$log" 2>&1 && ok=1
    # a check that ran several tests (e2e_run) counts them: its last line "== P passed, F failed"
    if counts=$(sed -n 's/^== \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$log" | tail -n 1) && [[ -n $counts ]]; then
        read -r p f <<< "$counts"
        ((ok || f > 0)) || f=$((f + 1))
    fi
    if ((ok)); then
        PASSED=$((PASSED + p))
        printf '%-56s ok%s\n' "$name" "$( ((p > 1)) && echo " ($p tests)")"
    else
        [[ -n $counts ]] && PASSED=$((PASSED + p))
        FAILED=$((FAILED + f))
        FAILURES+=("$name (see $log)")
        printf '%-56s FAILED\n' "$name"
        tail -n 20 "$log" | sed 's/^/    /'
    fi
}

# The same servers as the local lab: the versions of Debian's packages here (when installed) and
# lab.sh's settings, read from the running containers; JetStream's file store on its volume.
check_servers() {
    local pg nats bin settings
    bin='$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)'
    pg=$(compose exec -T postgres sh -c "$bin/postgres -V" | tr -d '\r')
    nats=$(compose exec -T nats nats-server --version | tr -d '\r')
    echo "containers: $pg; $nats"
    [[ $pg == *PostgreSQL* && $nats == nats-server* ]] || return 1
    if bin=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n 1) && [[ -x $bin/postgres ]]; then
        echo "local lab:  $("$bin/postgres" -V)"
        [[ $("$bin/postgres" -V) == "$pg" ]] || { echo "PostgreSQL differs from the local lab's"; return 1; }
    fi
    if [[ -x /usr/sbin/nats-server ]]; then
        echo "local lab:  $(/usr/sbin/nats-server --version)"
        [[ $(/usr/sbin/nats-server --version) == "$nats" ]] || { echo "nats-server differs from the local lab's"; return 1; }
    fi
    settings=$(compose exec -T postgres sh -c "$bin/psql -X -At -h /var/lib/mallbots/pg/run -p $MB_PG_PORT -U postgres -d mallbots -c \"select string_agg(name || '=' || setting, ' ' order by name) from pg_settings where name in ('fsync', 'full_page_writes', 'port', 'synchronous_commit')\"" | tr -d '\r')
    echo "settings:   $settings"
    [[ $settings == "fsync=off full_page_writes=off port=$MB_PG_PORT synchronous_commit=off" ]] || return 1
    curl -fsS --max-time 5 "http://127.0.0.1:$MB_NATS_MON_PORT/jsz" > "$TLOG/jsz.json" || return 1
    grep '"store_dir"' "$TLOG/jsz.json"
    grep -q '"store_dir": *"/var/lib/mallbots/nats/jetstream' "$TLOG/jsz.json"
}

# JetStream on its volume: js_put creates a file-backed stream MBPROBE and stores one message in
# it (the NATS protocol spoken by bash, as the images and hosts need no nats CLI); js_count
# prints how many messages the server holds (monitoring /jsz).
js_reply() { # reads the next message on fd 3; prints its payload
    local line i
    for ((i = 0; i < 50; i++)); do
        IFS= read -r -t 5 line <&3 || return 1
        line=${line%$'\r'}
        case $line in
            MSG\ *)
                IFS= read -r -t 5 line <&3 || return 1
                echo "${line%$'\r'}"
                return 0
                ;;
            PING) printf 'PONG\r\n' >&3 ;;
            -ERR*) echo "$line" && return 1 ;;
        esac
    done
    return 1
}
js_put() {
    local cfg='{"name":"MBPROBE","subjects":["mbprobe.>"],"storage":"file"}' reply
    exec 3<> "/dev/tcp/127.0.0.1/$MB_NATS_PORT" || return 1
    printf 'CONNECT {"verbose":false}\r\nSUB _INBOX.mbprobe 1\r\n' >&3
    printf 'PUB $JS.API.STREAM.CREATE.MBPROBE _INBOX.mbprobe %d\r\n%s\r\n' "${#cfg}" "$cfg" >&3
    reply=$(js_reply) && echo "stream: $reply" && [[ $reply == *'"storage":"file"'* ]] || return 1
    printf 'PUB mbprobe.one _INBOX.mbprobe 5\r\nhello\r\n' >&3
    reply=$(js_reply) && echo "publish: $reply" && [[ $reply == *'"seq":1'* ]] || return 1
    exec 3>&-
    js_count 1
}
js_count() { # want: the message count /jsz must show
    local n
    n=$(curl -fsS --max-time 5 "http://127.0.0.1:$MB_NATS_MON_PORT/jsz" | sed -n 's/^ *"messages": *\([0-9]*\).*/\1/p' | head -n 1)
    echo "JetStream holds ${n:-?} message(s)"
    [[ $n == "$1" ]]
}

# Both overlays are valid compose files, and the bridge one publishes every port on the host's
# 127.0.0.1 only (this run uses one of them; a bridge network's traffic would leave loopback).
check_compose_files() {
    local net out ports
    for net in host bridge; do
        out=$("${COMPOSE[@]}" -p "$PROJECT" -f docker/compose.yml -f "docker/net-$net.yml" config) || return 1
        echo "net-$net.yml: valid"
    done
    # compose v1 prints "- 127.0.0.1:8080:8080/tcp", v2 "published: ..." with "host_ip: ..."
    ports=$(grep -E '^ *- [^ ]*:[0-9]+(/tcp)?$|^ *(published|host_ip):' <<< "$out")
    echo "$ports"
    if grep -q 'published:' <<< "$ports"; then
        (($(grep -c 'published:' <<< "$ports") >= 5)) &&
            [[ $(grep -c 'published:' <<< "$ports") == $(grep -cE 'host_ip: "?127.0.0.1' <<< "$ports") ]]
    else
        (($(grep -c . <<< "$ports") >= 5)) && ! grep -v ' - 127.0.0.1:' <<< "$ports" | grep . > /dev/null
    fi
}

# Walks a whole order through the REST API (scripts/order-walk.sh); keeps the order id.
walk_order() {
    scripts/order-walk.sh "$1" | tee "$TLOG/order-walk.out"
    sed -n 's/^order-walk: completed order \([^ ]*\).*/\1/p' "$TLOG/order-walk.out" > "$TLOG/order-id"
    [[ -s $TLOG/order-id ]]
}
order_still_completed() {
    local order
    order=$(cat "$TLOG/order-id" 2> /dev/null) && [[ -n $order ]] || { echo "no order from the walk"; return 1; }
    curl -sS --max-time 10 "$1/api/ordering/$order" | tee "$TLOG/order-after.json"
    grep -q '"status":"completed"' "$TLOG/order-after.json"
}

# The chapter's e2e tests, from the sanitizer build of make test; each runs with the program in a
# container of the chapter's image (docker/e2e-app.sh) against the containers' PostgreSQL.
e2e_build() {
    make -j"${JOBS:-2}" -f mk/core.mk OUT=build/san/core SAN=1 all tests &&
        scripts/chapter.sh sync "$CH" "build/ch$CH/src" &&
        make -j"${JOBS:-2}" -f mk/chapter.mk SRC="build/ch$CH/src" OUT="build/san/ch$CH" \
            CORE=build/san/core SAN=1 all tests
}
e2e_run() { # test binary; fails on a failed test, a failed group, a crash or no test at all
    local rc=0 p f
    export MALLBOTS_BIN=$REPO/docker/e2e-app.sh MB_E2E_IMAGE=$MB_IMAGES/app:ch$CH CHAPTER=$CH
    export E2E_LOG_DIR=$REPO/$TLOG LOG_LEVEL=WARN NATS_URL=nats://127.0.0.1:$MB_NATS_PORT
    export PG_CONN="host=127.0.0.1 port=$MB_PG_PORT dbname=mallbots user=mallbots_user password=mallbots_pass"
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
    timeout 900 "$1" > "$TLOG/e2e.out" 2>&1 || rc=$?
    cat "$TLOG/e2e.out"
    p=$(grep -aoE '^\[  PASSED  \] [0-9]+ test' "$TLOG/e2e.out" | awk '{s+=$4} END {print s+0}')
    f=$(grep -aoE '^\[  FAILED  \] [0-9]+ test' "$TLOG/e2e.out" | awk '{s+=$4} END {print s+0}')
    echo "== $p passed, $f failed, exit $rc"
    ! grep -aqE '^\[ +(FAILED|ERROR) +\].*GROUP (SETUP|TEARDOWN)' "$TLOG/e2e.out" && ((rc == 0 && f == 0 && p > 0))
}

cmd_test() {
    local api t n=0
    ENGINE_DIR=${MB_ENGINE_DIR:-$REPO/build/docker-test}
    EXEC_ROOT=/run/mallbots-dockerd-$(printf %s "$ENGINE_DIR" | sha1sum | cut -c1-8)
    PRIVATE_HOST=unix://$EXEC_ROOT/docker.sock
    PROJECT=${MB_PROJECT:-mallbots-test}
    export MB_IMAGES=${MB_IMAGES_TEST:-mallbots-test}
    api="http://127.0.0.1:$MB_WEB_PORT"
    rm -rf "$TLOG"
    mkdir -p "$TLOG" build/docker-logs
    trap 'test_end' EXIT
    trap 'exit 130' INT TERM

    use_engine start
    use_compose
    say "engine $(docker version --format '{{.Server.Version}}'), compose: ${COMPOSE[*]}, $NET networking, chapter $CH"
    choose_base
    check "docker: compose files (host; bridge on 127.0.0.1 only)" check_compose_files
    check "docker: build images (postgres, nats, app:ch$CH)" images_build
    ((FAILED == 0)) || exit 1
    check "docker: lab and chapter $CH up, all healthy" lab_up
    ((FAILED == 0)) || exit 1
    check "docker: same servers and settings as the local lab" check_servers
    check "docker: a whole order over $api" walk_order "$api"
    check "docker: JetStream stores a message in its file store" js_put
    check "docker: build the chapter $CH e2e tests (sanitizers)" e2e_build
    for t in build/san/ch"$CH"/tests/e2e/test_*; do
        [[ -x $t && $t != *.d && $t != *.o ]] || continue
        check "docker: ch$CH e2e $(basename "$t")" e2e_run "$t"
        n=$((n + 1))
    done
    ((n > 0)) || check "docker: ch$CH has e2e tests" false
    check "docker: down, the volumes kept" compose down
    check "docker: up again" lab_up
    check "docker: the order is still completed" order_still_completed "$api"
    check "docker: JetStream still holds its message" js_count 1
    TEST_DONE=1
}

# At the end of `test`, also after a failure or Ctrl-C: removes what the test made, prints the
# counts and how long it took.
test_end() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -z ${TEST_DONE:-} ]]; then
        FAILED=$((FAILED + 1))
        FAILURES+=("the test stopped early (exit $rc)")
    fi
    test_cleanup
    if ((${#FAILURES[@]})); then
        echo "failures:"
        printf '  %s\n' "${FAILURES[@]}"
    fi
    say "test-docker took $((SECONDS - T0)) s (logs: $TLOG/)"
    echo "$PASSED passed, $FAILED failed"
    ((FAILED == 0)) && exit 0
    exit 1
}

# Removes everything the test made: containers, volumes, images, the base it built, the private
# engine and its data-root.
test_cleanup() {
    local ids
    say "cleaning up"
    if [[ -n ${COMPOSE[*]:-} ]]; then compose down -v --remove-orphans > "$TLOG/cleanup.log" 2>&1 || true; fi
    ids=$(docker ps -aq --filter label=mallbots.e2e 2> /dev/null || true)
    if [[ -n $ids ]]; then docker rm -f $ids >> "$TLOG/cleanup.log" 2>&1 || true; fi
    if ((STARTED_ENGINE)); then
        engine_stop
        rm -rf "$ENGINE_DIR"
        say "removed the private engine's data-root $ENGINE_DIR"
    elif engine_answers; then
        docker image rm "$MB_IMAGES/postgres:15" "$MB_IMAGES/nats:2.9" "$MB_IMAGES/app:ch$CH" >> "$TLOG/cleanup.log" 2>&1 || true
        if ((BASE_MADE)); then docker image rm "$LOCAL_BASE" >> "$TLOG/cleanup.log" 2>&1 || true; fi
        docker image prune -f >> "$TLOG/cleanup.log" 2>&1 || true
    fi
    if ((BASE_MADE)); then rm -rf "$BASE_DIR"; fi
}

# ---- commands -----------------------------------------------------------------------------------
T0=$SECONDS
cmd=${1:-}
case $cmd in
    base)
        use_engine start
        base_build
        base_import
        ;;
    build)
        use_engine start
        use_compose
        choose_base
        images_build
        ;;
    up)
        use_engine start
        use_compose
        mkdir -p build/docker-logs
        choose_base
        images_build
        lab_up
        lab_banner
        ;;
    down | wipe | clean)
        # wipe and clean start a stopped private engine to delete its volumes and images
        if ! use_engine && { [[ $cmd == down || ! -d $ENGINE_DIR/data ]] || ! use_engine start; }; then
            say "no engine answers: nothing runs"
            exit 0
        fi
        use_compose
        args=()
        [[ $cmd != down ]] && args=(-v)
        compose down "${args[@]}" --remove-orphans
        if [[ $cmd == clean ]]; then
            # shellcheck disable=SC2046 # one argument per image id
            docker image rm "$MB_IMAGES/postgres:15" "$MB_IMAGES/nats:2.9" $(docker images -q "$MB_IMAGES/app") "$LOCAL_BASE" > /dev/null 2>&1 || true
            docker image prune -f > /dev/null || true
            rm -rf "$BASE_DIR"
        fi
        if ((PRIVATE)); then engine_stop; fi
        if [[ $cmd == clean ]] && ((PRIVATE)); then rm -rf "$ENGINE_DIR"; fi
        say "$cmd: done$([[ $cmd == down ]] && echo ' (the data stays in the volumes; make docker-wipe deletes it)')"
        ;;
    logs)
        use_engine || die "no engine answers: the docker lab is not running"
        use_compose
        compose logs --no-color --tail="${MB_LOG_LINES:-100}"
        ;;
    status) cmd_status ;;
    test) cmd_test ;;
    -h | --help | help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
esac
