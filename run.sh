#!/usr/bin/env bash
# Start Taizhang: ./run.sh [streamlit options]  ->  http://localhost:8501
# Creates .venv and installs requirements.txt on first run (PYTHON=... picks the interpreter).
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=scripts/venv.sh
source scripts/venv.sh
ensure_venv requirements.txt
exec "$VENV_DIR/bin/streamlit" run app.py "$@"
