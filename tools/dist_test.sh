#!/usr/bin/env bash
# Distributed testing: bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args]
# (see dist_launch.sh for the rendezvous variables).
exec bash "$(dirname "$0")/dist_launch.sh" test.py "$3" "$1" "$2" \
    --launcher pytorch "${@:4}"
