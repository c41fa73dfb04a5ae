#!/usr/bin/env bash
# Create or refresh the project virtual environment (.venv/) with the pinned OpenMMLab stack.
#
#   tools/install.sh            # idempotent: seconds when nothing changed
#   SPN_FORCE_INSTALL=1 tools/install.sh   # reinstall every step
#
# Environment:
#   PYTHON             interpreter used to create the venv (default: python3.11, then python3)
#   SPN_VENV           venv location (default: <repo>/.venv)
#   SPN_WHEELHOUSE     folder holding a prebuilt mmcv-2.1.0 wheel (PIP_FIND_LINKS is honoured too)
#   SPN_WHEEL_CACHE    where an mmcv wheel built from source is kept for re-use
#                      (default: ~/.cache/spn_mm/wheels); never required to exist.
#   SPN_SKIP_BROWSER   set to skip installing Chromium (the web demo's browser test
#                      then skips, or fails under SPN_REQUIRE_BROWSER=1)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SPN_VENV:-$REPO/.venv}"
WHEEL_CACHE="${SPN_WHEEL_CACHE:-$HOME/.cache/spn_mm/wheels}"
STAMP="$VENV/.spn_mm_install_stamp"
STEP="start"
T0=$(date +%s)

log() { printf '[install %4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
fail() { printf '\n[install] FAILED at step: %s\n' "$STEP" >&2; exit 1; }
trap fail ERR

step() { STEP="$1"; log "==> $1"; }

# ---------------------------------------------------------------- fingerprint
fingerprint() {
    cat "$REPO/tools/install.sh" "$REPO/requirements/runtime.txt" "$REPO/requirements/tests.txt" \
        "$REPO/requirements/web.txt" "$REPO/setup.py" | sha256sum | cut -d' ' -f1
}

# ---------------------------------------------------------------- headless browser
# The web demo's browser test (tests/test_web) drives Debian's Chromium. Installed with
# apt-get only when no Chromium/Chrome is found and apt-get is there (as root, or with
# password-less sudo); otherwise a loud message, never a failed set-up.
BROWSER=""
browser_found() {
    local b
    for b in chromium chromium-browser google-chrome google-chrome-stable; do
        if command -v "$b" >/dev/null 2>&1; then BROWSER="$(command -v "$b")"; return 0; fi
    done
    return 1
}
ensure_browser() {
    if browser_found; then log "headless browser: $BROWSER"; return 0; fi
    if [[ -n "${SPN_SKIP_BROWSER:-}" ]]; then log "SPN_SKIP_BROWSER set: no browser installed"; return 0; fi
    local sudo=""
    if [[ "$(id -u)" != 0 ]] && sudo -n true >/dev/null 2>&1; then sudo="sudo -n"; fi
    if command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" == 0 || -n "$sudo" ]]; then
        log "no Chromium found: installing Debian's chromium with apt-get (for the web demo's browser test)"
        if $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q \
            && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
                chromium fonts-dejavu-core; then
            log "apt-get installed chromium"
        fi
    fi
    if browser_found; then log "headless browser: $BROWSER"; return 0; fi
    cat >&2 <<'MSG'

[install] ################################################################################
[install] WARNING: no headless browser (chromium) could be installed.
[install]   The web demo works, but its browser test (tests/test_web/test_web_browser.py)
[install]   will SKIP, or FAIL where SPN_REQUIRE_BROWSER=1 (as in .ci/run).
[install]   Install one yourself, e.g.  apt-get install chromium  (Debian/Ubuntu),
[install]   or point SPN_CHROMIUM at a Chromium/Chrome binary.
[install] ################################################################################

MSG
}

if [[ -z "${SPN_FORCE_INSTALL:-}" && -f "$STAMP" && "$(cat "$STAMP")" == "$(fingerprint)" ]]; then
    if "$VENV/bin/python" -c "import spn_mm, mmcv.ops, spn_mm.web.app, uvicorn" >/dev/null 2>&1; then
        ensure_browser
        log "environment up to date ($VENV)"
        exit 0
    fi
    log "stamp matches but the import check failed: reinstalling"
fi

# ---------------------------------------------------------------- interpreter
step "find Python 3.11"
if [[ -z "${PYTHON:-}" ]]; then
    if command -v python3.11 >/dev/null 2>&1; then PYTHON=python3.11; else PYTHON=python3; fi
fi
PYVER="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [[ "$PYVER" != "3.11" ]]; then
    echo "[install] $PYTHON is Python $PYVER; the pinned stack (mmcv 2.1.0 wheel, torch 2.9.1) needs 3.11." >&2
    echo "[install] set PYTHON=/path/to/python3.11" >&2
    false
fi

step "create venv $VENV"
if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)
export PIP_PROGRESS_BAR="${PIP_PROGRESS_BAR:-off}"

# Wheelhouse: SPN_WHEELHOUSE wins, PIP_FIND_LINKS is honoured by pip itself.
if [[ -n "${SPN_WHEELHOUSE:-}" ]]; then
    export PIP_FIND_LINKS="${SPN_WHEELHOUSE}${PIP_FIND_LINKS:+ $PIP_FIND_LINKS}"
fi
mkdir -p "$WHEEL_CACHE"
export PIP_FIND_LINKS="${PIP_FIND_LINKS:+$PIP_FIND_LINKS }$WHEEL_CACHE"

step "build tools (setuptools<70 for mmcv's pkg_resources, wheel, ninja)"
"${PIP[@]}" install -q "setuptools<70" wheel ninja

step "torch 2.9.1 + torchvision 0.24.1 + numpy<2 (a fresh venv downloads the CUDA build, several GB)"
"${PIP[@]}" install "torch==2.9.1" "torchvision==0.24.1" "numpy<2"

# ---------------------------------------------------------------- mmcv (full, with ops)
have_mmcv() {
    "$PY" - <<'PY' >/dev/null 2>&1
import importlib.metadata as md, sys
sys.exit(0 if md.version('mmcv') == '2.1.0' else 1)
PY
}
mmcv_ops_ok() { "$PY" -c "import mmcv.ops; from mmcv.ops import nms" >/dev/null 2>&1; }

step "mmcv 2.1.0 with CPU ops"
"${PIP[@]}" install -q "mmengine==0.10.7" "opencv-python==4.10.0.84" "opencv-python-headless==4.10.0.84"
if have_mmcv && mmcv_ops_ok; then
    log "mmcv 2.1.0 with ops already installed"
else
    found=""
    for d in ${PIP_FIND_LINKS:-}; do
        for w in "$d"/mmcv-2.1.0-cp311-*.whl; do
            [[ -f "$w" ]] && found="$w" && break 2
        done
    done
    if [[ -n "$found" ]]; then
        log "installing prebuilt wheel $found"
        "${PIP[@]}" install --no-deps --force-reinstall "$found"
    else
        log "no mmcv wheel found in PIP_FIND_LINKS/SPN_WHEELHOUSE: building from source (~6 min on 2 cores)"
        tmp="$(mktemp -d)"
        CFLAGS="-g0" CXXFLAGS="-g0" MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
            "${PIP[@]}" wheel --no-build-isolation --no-deps --no-binary mmcv -w "$tmp" "mmcv==2.1.0"
        cp "$tmp"/mmcv-2.1.0-*.whl "$WHEEL_CACHE"/ 2>/dev/null || true
        "${PIP[@]}" install --no-deps --force-reinstall "$tmp"/mmcv-2.1.0-*.whl
        rm -rf "$tmp"
    fi
    mmcv_ops_ok || { echo "[install] mmcv.ops does not import after installing mmcv" >&2; false; }
fi

# ---------------------------------------------------------------- OpenMMLab + deps
step "runtime requirements (mmagic with --no-deps + its import-time needs, mmpretrain, mmseg)"
req_tmp="$(mktemp)"
grep -v -E '^\s*(mmagic|mmcv)\b' "$REPO/requirements/runtime.txt" > "$req_tmp"
"${PIP[@]}" install -r "$req_tmp" -r "$REPO/requirements/tests.txt"
rm -f "$req_tmp"
"${PIP[@]}" install -q --no-deps "mmagic==1.2.0"

step "web extra (requirements/web.txt: Starlette, uvicorn, python-multipart, websockets)"
"${PIP[@]}" install -r "$REPO/requirements/web.txt"

step "headless browser for the web demo's browser test"
ensure_browser

step "spn_mm (editable)"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$REPO"

step "import check"
"$PY" -c "import spn_mm, mmagic.models, mmpretrain.models, mmseg.models, mmcv.ops, spn_mm.web.app, uvicorn; print('import check ok')"

fingerprint > "$STAMP"
log "done: $VENV"
