#!/usr/bin/env bash
# Run the test-suite with the project venv. Fails (non-zero) on any failure and
# when no test ran (pytest exit 5 is turned into a failure).
#   SPN_TEST_WORKERS  pytest-xdist worker processes (default: the number of
#                     CPU cores, at most 2; 1 = one process, no xdist). Each
#                     worker runs whole test files (--dist loadfile, so a
#                     file's module fixtures are built once) with one thread
#                     per process, so the workers share the cores instead of
#                     oversubscribing them.
set -uo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
CORES="$(nproc 2>/dev/null || echo 1)"
WORKERS="${SPN_TEST_WORKERS:-$(( CORES < 2 ? CORES : 2 ))}"
XDIST=()
if [[ "$WORKERS" -gt 1 ]] && ! .venv/bin/python -c 'import xdist' 2>/dev/null; then
    echo "[run_tests] pytest-xdist is not installed (tools/install.sh installs it):" \
        "running in one process" >&2
    WORKERS=1
fi
if [[ "$WORKERS" -gt 1 ]]; then
    XDIST=(-n "$WORKERS" --dist loadfile)
    export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
else
    export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$CORES}"
fi
export MPLBACKEND=Agg
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::FutureWarning,ignore::DeprecationWarning}"
.venv/bin/python -m pytest tests -p no:cacheprovider --durations=15 \
    "${XDIST[@]}" "$@"
rc=$?
if [[ $rc -eq 5 ]]; then
    echo "[run_tests] pytest collected no tests: failing" >&2
    exit 1
fi
exit $rc
