#!/usr/bin/env bash
# Run the tests: ./test.sh [pytest options], e.g. ./test.sh -q tests/test_auth.py
# Creates .venv and installs requirements-dev.txt on first run (PYTHON=... picks the interpreter).
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=scripts/venv.sh
source scripts/venv.sh
ensure_venv requirements-dev.txt
exec "$VENV_DIR/bin/python" -m pytest "$@"
