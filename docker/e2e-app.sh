#!/bin/sh
# e2e-app.sh -- the program under test of the chapters' end-to-end tests, in a container.
#
# tests/support/e2e.c starts MALLBOTS_BIN with the environment an operator would give the program
# (PG_CONN, WEB_PORT, RPC_PORT, ...), talks to it over 127.0.0.1 and stops it with SIGTERM. With
# MALLBOTS_BIN=docker/e2e-app.sh and MB_E2E_IMAGE=<image>, that program is the image's, in a
# container: host networking (the test's ports on 127.0.0.1), the test's environment passed on
# (less what belongs to this host), docker run's output as the program's log, SIGTERM passed on
# to the program by docker run and the container's init, and the program's exit code returned.
# `make test-docker` (scripts/docker-lab.sh test) runs the chapter's e2e tests this way.
set -eu
set --
image=${MB_E2E_IMAGE:?MB_E2E_IMAGE=<image> names the image to run}
for name in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' | sort -u); do
    case $name in
        PATH | HOME | HOSTNAME | PWD | OLDPWD | USER | LOGNAME | SHELL | TMPDIR | TERM | LANG | LANGUAGE | LC_* | TZ) ;;
        LD_* | *SAN_OPTIONS | MALLOC_* | DOCKER_* | MB_* | MALLBOTS_BIN | MAKE* | MFLAGS) ;;
        *) set -- "$@" -e "$name" ;;
    esac
done
exec docker run --rm --init --network host --label mallbots.e2e=1 "$@" "$image"
