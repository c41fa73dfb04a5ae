#!/usr/bin/env bash
# The main job (README command 1, `make demo`): build the embedded demo data,
# train the demo SPN, evaluate it per mask-ratio bucket with tools/test.py,
# then compare it with the untrained model, a mean fill and OpenCV's Telea and
# Navier-Stokes inpainting (report/index.html).
#   SPN_DEMO_WORK_DIR  work dir (default work_dirs/spn_demo)
#   extra arguments are passed to tools/train.py (e.g. --cfg-options ...)
# The tools' own output (mmengine's init and per-iteration logs) goes to
# $WORK/demo.log; the terminal gets one line per step, then the table and the
# report paths. On a failure the end of the log is shown.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
PY=.venv/bin/python
CFG=configs/spn_demo.py
WORK="${SPN_DEMO_WORK_DIR:-work_dirs/spn_demo}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::FutureWarning,ignore::DeprecationWarning,ignore::UserWarning}"
mkdir -p "$WORK"
LOG="$WORK/demo.log"
: > "$LOG"
step() {  # step "title" cmd...: run cmd with its output in $LOG
    local title="$1" t0
    shift
    t0=$(date +%s)
    echo "[demo] $title" | tee -a "$LOG"
    if ! "$@" >> "$LOG" 2>&1; then
        echo "[demo] FAILED: $title; last lines of $LOG:" >&2
        tail -n 40 "$LOG" >&2
        exit 1
    fi
    echo "[demo]   $(( $(date +%s) - t0 ))s" | tee -a "$LOG"
}
T0=$(date +%s)
step "1/4 demo data (scikit-image photos -> data/demo)" \
    $PY tools/prepare_demo_data.py --out data/demo
step "2/4 training $CFG (resumes from $WORK if a run is there)" \
    $PY tools/train.py "$CFG" --work-dir "$WORK" --resume "$@"
CKPT="$(cat "$WORK/last_checkpoint")"
step "3/4 evaluation on the seeded demo manifest ($CKPT)" \
    $PY tools/test.py "$CFG" "$CKPT" --work-dir "$WORK" \
    --out "$WORK/test_metrics.json"
step "4/4 trained vs untrained vs mean fill vs OpenCV Telea / Navier-Stokes" \
    $PY tools/analysis/demo_report.py "$CFG" "$CKPT" --work-dir "$WORK" \
    --out "$WORK/report" --command "make demo${*:+ (tools/train.py args: $*)}"
echo
cat "$WORK/report/demo_report.md"
echo
grep -E '^(PSNR gain|goal)' "$LOG" | tail -n 2
echo "[demo] done in $(( $(date +%s) - T0 ))s"
echo "[demo] report: $WORK/report/index.html"
echo "[demo] table: $WORK/report/demo_report.md, $WORK/report/demo_report.json"
echo "[demo] figures: $WORK/report/demo_grid.png, $WORK/report/loss_curve.png"
echo "[demo] bucketed metrics of tools/test.py: $WORK/test_metrics.json; log: $LOG"
