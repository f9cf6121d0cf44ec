#!/usr/bin/env bash
# `tgrelay bench postgres` on a fresh machine, in one command: builds the release binary, starts a
# throwaway PostgreSQL server (installed from Debian's packages when missing, as for the tests), creates an
# empty database for tgrelay and one for pgqueuer, installs pgqueuer (and aiohttp, for its delivering
# entrypoint) from PyPI into .build-bench/pgq-venv and runs the bench. Arguments go to the bench, e.g.:
#
#   bash scripts/bench-postgres.sh --record docs/benchmarks.md
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/test-postgres.sh

swift build -c release --product tgrelay
venv=.build-bench/pgq-venv
if ! "$venv/bin/python" -c "import pgqueuer, asyncpg, aiohttp" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet pgqueuer asyncpg aiohttp
fi
start_test_postgres
server="${TGRELAY_TEST_POSTGRES_URL%/postgres}"
for database in tgrelay_bench pgqueuer_bench; do
    as_postgres "$TEST_POSTGRES_BIN/psql" -q -h 127.0.0.1 -p "$TEST_POSTGRES_PORT" -U postgres -c "CREATE DATABASE $database"
done
.build/release/tgrelay bench postgres --database "$server/tgrelay_bench" --pgqueuer-dsn "$server/pgqueuer_bench" \
    --python "$venv/bin/python" "$@"
