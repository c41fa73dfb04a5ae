#!/usr/bin/env bash
# The main job (README command 1, `make demo`): build the embedded demo data,
# train the demo SPN, evaluate it per mask-ratio bucket with tools/test.py,
# then compare it with the untrained model and two baselines.
#   SPN_DEMO_WORK_DIR  work dir (default work_dirs/spn_demo)
#   extra arguments are passed to tools/train.py (e.g. --cfg-options ...)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
PY=.venv/bin/python
CFG=configs/spn_demo.py
WORK="${SPN_DEMO_WORK_DIR:-work_dirs/spn_demo}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::FutureWarning,ignore::DeprecationWarning,ignore::UserWarning}"
T0=$(date +%s)
echo "[demo] 1/4 demo data (scikit-image photos -> data/demo)"
$PY tools/prepare_demo_data.py --out data/demo
echo "[demo] 2/4 training $CFG (resumes from $WORK if a run is there)"
$PY tools/train.py "$CFG" --work-dir "$WORK" --resume "$@"
CKPT="$(cat "$WORK/last_checkpoint")"
echo "[demo] 3/4 evaluation on the seeded demo manifest ($CKPT)"
$PY tools/test.py "$CFG" "$CKPT" --work-dir "$WORK" --out "$WORK/test_metrics.json"
echo "[demo] 4/4 trained vs untrained vs mean fill vs OpenCV Telea"
$PY tools/analysis/demo_report.py "$CFG" "$CKPT" --out "$WORK/report"
echo "[demo] done in $(( $(date +%s) - T0 ))s"
echo "[demo] bucketed metrics: $WORK/test_metrics.json (+ JSON/CSV tables in $WORK/<timestamp>/)"
echo "[demo] comparison table: $WORK/report/demo_report.md; pictures: $WORK/report/demo_grid.png"
