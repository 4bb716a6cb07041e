# shellcheck shell=bash
# Shared by run.sh and test.sh (sourced, not executed): make sure the project's
# virtual environment exists and holds the given requirements file.
#
#   ensure_venv requirements.txt
#
# The interpreter is $PYTHON (default python3).  pip runs only when the
# requirements changed since the last successful install: a stamp file in
# .venv holds the sha256 of the requirements files and the Python version.

VENV_DIR="${VENV_DIR:-.venv}"

_venv_die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# sha256 over every requirements*.txt (requirements-dev.txt includes
# requirements.txt) plus the interpreter's version.
_requirements_digest() {
    {
        "$VENV_DIR/bin/python" -c 'import sys; print(sys.version)'
        for f in requirements*.txt; do
            [ -f "$f" ] || continue
            printf '%s\n' "$f"
            cat "$f"
        done
    } | sha256sum | cut -d' ' -f1
}

_create_venv() {
    local python="${PYTHON:-python3}"
    command -v "$python" >/dev/null 2>&1 \
        || _venv_die "'$python' not found. Install Python 3.11 or newer (Debian: apt-get install python3 python3-venv), or set PYTHON=/path/to/python3."
    "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || _venv_die "Taizhang needs Python 3.11 or newer; '$python' is $("$python" -c 'import platform; print(platform.python_version())'). Set PYTHON=/path/to/python3.11."
    # Debian ships venv without ensurepip unless python3-venv is installed.
    if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        _venv_die "Python's venv module is missing. On Debian/Ubuntu run: apt-get install python3-venv   (then run this command again)"
    fi
    echo "Creating the virtual environment in $VENV_DIR ..."
    if ! "$python" -m venv --clear "$VENV_DIR"; then
        rm -rf "$VENV_DIR"
        _venv_die "Could not create $VENV_DIR with '$python -m venv' (see above). On Debian/Ubuntu: apt-get install python3-venv"
    fi
}

ensure_venv() {
    local requirements="$1"
    local stamp="$VENV_DIR/.taizhang-${requirements%.txt}.sha256"
    [ -f "$requirements" ] || _venv_die "$requirements not found in $(pwd)"

    # A venv whose interpreter no longer runs (Python removed or upgraded) is rebuilt.
    if [ ! -x "$VENV_DIR/bin/python" ] || ! "$VENV_DIR/bin/python" -c '' >/dev/null 2>&1; then
        _create_venv
    fi

    local digest
    digest="$(_requirements_digest)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
        return 0
    fi
    echo "Installing $requirements into $VENV_DIR (requirements changed or first run) ..."
    "$VENV_DIR/bin/python" -m pip install --disable-pip-version-check --quiet -r "$requirements" \
        || _venv_die "pip could not install $requirements (see above); nothing was recorded, the next run tries again."
    printf '%s\n' "$digest" >"$stamp"
}
