#!/usr/bin/env bash
# Sourced by scripts/test.sh: starts a throwaway PostgreSQL server for the tests and stops it on exit.
#
# Installs PostgreSQL from Debian's packages when it is missing, creates a cluster in a temporary
# directory owned by the `postgres` user (initdb refuses to run as root), starts it on a free loopback
# port with trust authentication, and exports TGRELAY_TEST_POSTGRES_URL for the test suites.
# TGRELAY_TEST_REQUIRE_POSTGRES=1 makes the PostgreSQL tests fail, not vanish, if the URL is missing.

postgres_bin_dir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [[ -n "$dir" && -x "$dir/initdb" ]] && echo "$dir"
}

install_postgres_if_missing() {
    if [[ -n "$(postgres_bin_dir)" ]]; then return; fi
    echo "test-postgres: installing PostgreSQL from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
}

free_loopback_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Runs a command as the `postgres` user when we are root, as ourselves otherwise.
as_postgres() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_test_postgres() {
    install_postgres_if_missing
    local bin
    bin=$(postgres_bin_dir)
    TEST_POSTGRES_DIR=$(mktemp -d /tmp/tgrelay-pg.XXXXXX)
    chmod 755 "$TEST_POSTGRES_DIR"
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$TEST_POSTGRES_DIR"; fi
    TEST_POSTGRES_PORT=$(free_loopback_port)
    as_postgres "$bin/initdb" -D "$TEST_POSTGRES_DIR/data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
    # In the configuration file, not on the command line, so that a plain `pg_ctl start` after a stop (the
    # outage tests) comes back the same. Enough connections for three relay nodes and the test process;
    # fsync stays on (durability is tested).
    printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nmax_connections = 300\n" \
        "$TEST_POSTGRES_PORT" "$TEST_POSTGRES_DIR" >>"$TEST_POSTGRES_DIR/data/postgresql.conf"
    as_postgres "$bin/pg_ctl" -D "$TEST_POSTGRES_DIR/data" -l "$TEST_POSTGRES_DIR/server.log" -w -s start
    TEST_POSTGRES_BIN="$bin"
    export TGRELAY_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$TEST_POSTGRES_PORT/postgres"
    # The end-to-end tests stop and start the server mid-run with this command.
    local prefix=""
    if [[ $(id -u) -eq 0 ]]; then prefix="runuser -u postgres -- "; fi
    export TGRELAY_TEST_POSTGRES_CTL="$prefix$bin/pg_ctl -D $TEST_POSTGRES_DIR/data -l $TEST_POSTGRES_DIR/server.log"
    export TGRELAY_TEST_REQUIRE_POSTGRES=1
    trap stop_test_postgres EXIT
    echo "test-postgres: PostgreSQL on 127.0.0.1:$TEST_POSTGRES_PORT ($TEST_POSTGRES_DIR)" >&2
}

stop_test_postgres() {
    if [[ -n "${TEST_POSTGRES_DIR:-}" ]]; then
        as_postgres "$TEST_POSTGRES_BIN/pg_ctl" -D "$TEST_POSTGRES_DIR/data" -m immediate -s stop || true
        rm -rf "$TEST_POSTGRES_DIR"
        TEST_POSTGRES_DIR=""
    fi
}
