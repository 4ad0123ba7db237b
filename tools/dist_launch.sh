#!/usr/bin/env bash
# Runs a tools/ script on NPROC processes with torch.distributed.run
# (dist_train.sh and dist_test.sh call it):
#   bash tools/dist_launch.sh SCRIPT NPROC [script args]
# NNODES, NODE_RANK, PORT and MASTER_ADDR set the rendezvous; PYTHON selects
# the interpreter (default: python on PATH).
SCRIPT=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
"${PYTHON:-python}" -m torch.distributed.run \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$NPROC \
    --master_port=$PORT \
    "$(dirname "$0")/$SCRIPT" \
    "${@:3}"
