#!/usr/bin/env bash
# Distributed training with mmengine's launcher:
#   bash tools/dist_train.sh CONFIG GPUS [train.py args]
# On a CPU-only machine the processes communicate through gloo.
# PYTHON selects the interpreter (default: python on PATH); see
# dist_launch.sh for the rendezvous variables.
exec bash "$(dirname "$0")/dist_launch.sh" train.py "$2" "$1" \
    --launcher pytorch "${@:3}"
