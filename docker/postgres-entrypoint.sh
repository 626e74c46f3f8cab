#!/bin/sh
# postgres-entrypoint.sh -- the docker lab's PostgreSQL: the cluster scripts/lab.sh makes, in a
# container (runs as the OS user postgres, data on the volume /var/lib/mallbots/pg).
#
# Environment: PG_LISTEN (listen_addresses; 127.0.0.1 with host networking, * on a compose
# network, where only the published port on the host's 127.0.0.1 reaches it) and PG_PORT.
#
# First start: initdb with lab.sh's options. Every start: role mallbots_user (LOGIN CREATEDB,
# password mallbots_pass) and database mallbots are made if missing, over the unix socket only;
# then postgres runs in the foreground (pid 1 of the container, or under docker's init) with
# lab.sh's settings, so `docker stop` is a clean fast shutdown.
set -eu

DATA=/var/lib/mallbots/pg/data
SOCK=/var/lib/mallbots/pg/run
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PG_LISTEN=${PG_LISTEN:-127.0.0.1}
PG_PORT=${PG_PORT:-15432}

say() { printf 'postgres-entrypoint: %s\n' "$*"; }

mkdir -p "$SOCK"
chmod 700 "$SOCK"
if [ ! -f "$DATA/PG_VERSION" ]; then
    say "creating cluster in $DATA (initdb)"
    "$BIN/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C --no-sync > /dev/null
    # Peers on a compose network connect from its subnet (lab.sh's cluster: 127.0.0.1 only).
    echo 'host all all samenet scram-sha-256' >> "$DATA/pg_hba.conf"
fi

# lab.sh's settings (its lab.conf): a throw-away lab cluster, speed over crash safety. fsync=off
# means an OS crash or power loss can corrupt the cluster; never use these settings for real data.
set -- -c "port=$PG_PORT" -c "unix_socket_directories=$SOCK" -c unix_socket_permissions=0700 \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off

# Role and database, as lab.sh up does, before TCP is opened.
"$BIN/pg_ctl" -D "$DATA" -w -t 60 -s -o "-c listen_addresses='' $*" start
"$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PG_PORT" -U postgres -d postgres << 'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mallbots_user') THEN
    CREATE ROLE mallbots_user LOGIN CREATEDB PASSWORD 'mallbots_pass';
  ELSE
    ALTER ROLE mallbots_user LOGIN CREATEDB PASSWORD 'mallbots_pass';
  END IF;
END
$$;
SELECT 'CREATE DATABASE mallbots OWNER mallbots_user'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'mallbots')\gexec
SQL
"$BIN/pg_ctl" -D "$DATA" -w -t 60 -s -m fast stop

say "PostgreSQL $("$BIN/postgres" -V | awk '{print $3}') on $PG_LISTEN:$PG_PORT, database mallbots"
exec "$BIN/postgres" -D "$DATA" -c "listen_addresses=$PG_LISTEN" "$@"
