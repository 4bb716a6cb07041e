#!/usr/bin/env bash
# Run the tests: ./test.sh [pytest options], e.g. ./test.sh -q tests/accounts/test_auth.py
# Creates .venv and installs requirements-dev.txt on first run (PYTHON=... picks the interpreter).
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=scripts/venv.sh
source scripts/venv.sh
ensure_venv requirements-dev.txt
# Tests run in parallel workers (pytest-xdist), one per core up to four: most of
# a test's time is spent creating its database or waiting for a browser.
# Browser tests share one worker (see tests/conftest.py). Pass -n 0 to run in one process.
args=("$@")
if ! printf '%s\n' "$@" | grep -qE '^(-n|--numprocesses)'; then
    workers=$(nproc 2>/dev/null || echo 2)
    args=(-n "$(( workers < 4 ? workers : 4 ))" --dist loadgroup "${args[@]}")
fi
exec "$VENV_DIR/bin/python" -m pytest "${args[@]}"
