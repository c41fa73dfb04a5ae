#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG GPUS [train.py args...]
# GPUS = number of processes on this node (on a CPU-only machine: CPU processes, gloo backend).
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT from the environment.
set -e
if [[ $# -lt 2 ]]; then echo "usage: $0 CONFIG GPUS [args...]" >&2; exit 2; fi
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
source "$(dirname "$0")/_python.sh"
exec "$PYTHON" -m torch.distributed.run \
    --nnodes=$NNODES --node_rank=$NODE_RANK --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS --master_port=$PORT \
    "$(dirname "$0")/train.py" "$CONFIG" --launcher pytorch "${@:3}"
