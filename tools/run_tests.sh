#!/usr/bin/env bash
# Run the test-suite with the project venv. Fails (non-zero) on any failure and
# when no test ran (pytest exit 5 is turned into a failure).
set -uo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
export MPLBACKEND=Agg
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::FutureWarning,ignore::DeprecationWarning}"
.venv/bin/python -m pytest tests -p no:cacheprovider --durations=15 "$@"
rc=$?
if [[ $rc -eq 5 ]]; then
    echo "[run_tests] pytest collected no tests: failing" >&2
    exit 1
fi
exit $rc
