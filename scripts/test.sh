#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: builds everything, then runs every test target.
# End-to-end tests start the real `tgrelay` binary built here (kill -9, restarts) against the
# in-process Bot API simulator, all on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build --build-tests
export TGRELAY_BIN="$PWD/$(swift build --show-bin-path)/tgrelay"
swift test --skip-build "$@"
