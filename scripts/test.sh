#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: builds everything, then runs every test target.
# End-to-end tests start the real `tgrelay` binary built here (kill -9, restarts) against the
# in-process Bot API simulator, all on loopback. A throwaway PostgreSQL server (installed from Debian's
# packages when missing) serves the PostgreSQL driver's tests and the multi-node tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/test-postgres.sh

# The dashboard test drives headless Chromium (Debian's package) through the DevTools protocol
# (scripts/dashboard_check.py, which needs Python's websockets).
if ! command -v chromium >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
python3 -c "import websockets" 2>/dev/null || pip install --quiet websockets

swift build --build-tests
# The proxy's tests drive real bot libraries (python-telegram-bot, aiogram, pyTelegramBotAPI) from PyPI.
export TGRELAY_PYTHON="$(bash scripts/bot-libraries-venv.sh)"
start_test_postgres
export TGRELAY_BIN="$(swift build --show-bin-path)/tgrelay"
# One test at a time: the end-to-end suites run real processes and measure Telegram's rate limits,
# which two cores shared by parallel suites would distort.
swift test --skip-build --no-parallel "$@"
