# Sourced by the tools/*.sh launchers: pick the interpreter.
# $PYTHON wins; otherwise the repo's .venv (made by tools/install.sh); else python3.
_SPN_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "$_SPN_REPO/.venv/bin/python" ]]; then
        PYTHON="$_SPN_REPO/.venv/bin/python"
    else
        PYTHON="$(command -v python3 || command -v python)"
    fi
fi
export PYTHONPATH="$_SPN_REPO${PYTHONPATH:+:$PYTHONPATH}"
