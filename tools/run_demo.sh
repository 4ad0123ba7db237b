#!/usr/bin/env bash
# The main job on the embedded demo data, from a fresh clone:
#   1. set up .venv (idempotent),
#   2. generate the synthetic demo scenes (data/demo, M3FD and MSRS layouts),
#   3. meta-train TDFusion with a small YOLOX as the task network
#      (learning G on meta pairs, then F and T, every epoch),
#   4. evaluate the detector on the fused test images (bbox mAP@0.5),
#   5. draw a panel per test image (IR | visible | fused | G's w_ir |
#      detections) and the learning curves.
# Everything lands in work_dirs/demo/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
PY="$ROOT/.venv/bin/python"
CONFIG=configs/tdfusion_yolo_demo.py
WORK=work_dirs/demo
START=$(date +%s)

"$PY" tools/misc/make_demo_data.py --out data/demo
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK"
RUN_DIR="$(ls -d "$WORK"/2*/ | tail -n 1)"
CKPT="$WORK/$(xargs basename < "$WORK/last_checkpoint")"
"$PY" tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK" \
  2>&1 | tee "$WORK/test_output.txt"
"$PY" tools/misc/demo_panels.py "$CONFIG" "$CKPT" --out "$WORK/panels" \
  | tee "$WORK/panels_output.txt"
"$PY" tools/analysis_tools/plot_curves.py "$WORK" --out "$WORK/curves.png"

MAP="$(grep -o 'pascal_voc/mAP: [0-9.]*' "$WORK/test_output.txt" | tail -n 1)"
echo
echo "Demo finished in $(( $(date +%s) - START )) s (after setup)."
echo "  detector on the fused test images: bbox mAP@0.5 = ${MAP#*: }"
echo "  $(grep "^G's w_ir" "$WORK/panels_output.txt")"
echo "  panels (IR | visible | fused | w_ir | detections): $WORK/panels/"
echo "  learning curves:     $WORK/curves.png"
echo "  checkpoint:          $CKPT"
echo "  training log:        $RUN_DIR"
echo "  test output:         $WORK/test_output.txt"
