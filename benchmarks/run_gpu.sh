#!/usr/bin/env bash
# SPN on a CUDA machine with this stack installed (README "Installation"):
# the benchmarks on CUDA, then a smoke run of the user's path -
# tools/dist_train.sh (nccl, world size = GPUs present) on the reduced demo
# config for a few iterations without and with --amp, then tools/test.py on
# its checkpoint. Prints PASS/FAIL per step; exit status 1 if any failed.
#
#   benchmarks/run_gpu.sh [OUT_DIR]            # CUDA (~8 min budget)
#   benchmarks/run_gpu.sh --dry-run [OUT_DIR]  # every step on CPU, tiny
#     (tiny data, batch 2; trains only with --amp - the plain path is the
#     tools' own tests - then tools/test.py on that checkpoint)
#
# Environment: PYTHON (interpreter, default the repo's .venv), ITERS (smoke
# iterations, default 20), PORT (rendezvous port).
set -uo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
source tools/_python.sh
DRY=0
if [[ "${1:-}" == "--dry-run" ]]; then DRY=1; shift; fi
OUT="${1:-work_dirs/run_gpu}"
mkdir -p "$OUT"
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}"
FAILED=0
declare -a SUMMARY

step() {  # step NAME COMMAND...
    local name=$1; shift
    local t0=$(date +%s)
    echo "[run_gpu] ---- $name: $*"
    if "$@" > "$OUT/$name.log" 2>&1; then
        SUMMARY+=("PASS $name ($(( $(date +%s) - t0 ))s)")
    else
        SUMMARY+=("FAIL $name ($(( $(date +%s) - t0 ))s, see $OUT/$name.log)")
        FAILED=1
        tail -n 20 "$OUT/$name.log"
    fi
    echo "[run_gpu] ${SUMMARY[-1]}"
}

if [[ $DRY == 1 ]]; then
    DEVICE=cpu; NPROC=1; ITERS=${ITERS:-2}; CKPT=1
    BENCH_INF=(--dry-run --variants det)
    BENCH_TRAIN=(--dry-run --variants det)
    DATA_OPTS=(--train-per-photo 2 --val-per-side 2)  # small: a check only
    TEST_AFTER=("--amp"); AMP_RUNS=("--amp")
    # batch 2, no loader workers: the dry run checks the steps, not speed
    SMOKE_OPTS=(train_dataloader.batch_size=2 train_dataloader.num_workers=0
                train_dataloader.persistent_workers=False
                test_dataloader.num_workers=0
                test_dataloader.persistent_workers=False)
    echo "[run_gpu] dry run on CPU (gloo, 1 process): checks every step runs"
else
    DEVICE=cuda
    NPROC=$("$PYTHON" -c 'import torch; print(torch.cuda.device_count())')
    ITERS=${ITERS:-20}; CKPT=$ITERS
    if [[ "$NPROC" -lt 1 ]]; then echo "[run_gpu] no CUDA GPU found" >&2; exit 1; fi
    [[ "$NPROC" == 1 ]] && echo "[run_gpu] one GPU: multi-GPU not measured"
    BENCH_INF=(--sizes 256 512 --batches 1 4 --compile)
    BENCH_TRAIN=(--width reduced)
    DATA_OPTS=()
    TEST_AFTER=("" "--amp"); AMP_RUNS=("" "--amp")
    SMOKE_OPTS=()
fi

step bench_inference "$PYTHON" benchmarks/bench_inference.py --device $DEVICE \
    "${BENCH_INF[@]}" --out "$OUT/bench_inference.json"
step bench_train "$PYTHON" benchmarks/bench_train.py --device $DEVICE \
    "${BENCH_TRAIN[@]}" --out "$OUT/bench_train.json"
if [[ $DRY == 0 ]]; then
    step bench_train_full "$PYTHON" benchmarks/bench_train.py --device $DEVICE \
        --width full --size 256 --batch 4 --repeats 2 \
        --out "$OUT/bench_train_full.json"
fi

DATA="$OUT/demo_data"
step demo_data "$PYTHON" tools/prepare_demo_data.py --out "$DATA" "${DATA_OPTS[@]}"
OPTS=(train_dataloader.dataset.data_root="$DATA"
      val_dataloader.dataset.data_root="$DATA"
      test_dataloader.dataset.data_root="$DATA"
      train_cfg.max_iters=$ITERS train_cfg.val_interval=100000 train_cfg.val_begin=100000
      default_hooks.checkpoint.interval=$CKPT default_hooks.logger.interval=1
      "param_scheduler=[]" "${SMOKE_OPTS[@]}")
for AMP in "${AMP_RUNS[@]}"; do
    NAME=train${AMP:+_amp}
    PORT=${PORT:-29500} step $NAME tools/dist_train.sh configs/spn_demo.py \
        $NPROC --work-dir "$OUT/$NAME" $AMP --cfg-options "${OPTS[@]}"
    [[ " ${TEST_AFTER[*]} " == *" $AMP "* ]] || continue
    step test_$NAME "$PYTHON" tools/test.py configs/spn_demo.py \
        "$OUT/$NAME/iter_$ITERS.pth" --work-dir "$OUT/$NAME" \
        --out "$OUT/$NAME/test_metrics.json" --cfg-options "${OPTS[@]}"
done

echo "[run_gpu] ==== summary (device $DEVICE, world size $NPROC)"
for line in "${SUMMARY[@]}"; do echo "[run_gpu] $line"; done
exit $FAILED
