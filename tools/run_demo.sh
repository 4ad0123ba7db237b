#!/usr/bin/env bash
# The main job on the embedded demo data, from a fresh clone:
#   1. set up .venv (idempotent),
#   2. generate the synthetic demo scenes (data/demo, M3FD and MSRS layouts),
#   3. meta-train TDFusion with a YOLOX detector as the task network
#      (learning G on meta pairs, then F and T, every epoch),
#   4. evaluate the detector on the fused test images (bbox mAP),
#   5. write fused pictures (and IR | visible | fused panels).
# Everything lands in work_dirs/demo/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
PY="$ROOT/.venv/bin/python"
CONFIG=configs/tdfusion_yolo_demo.py
WORK=work_dirs/demo

"$PY" tools/misc/make_demo_data.py --out data/demo
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK"
CKPT="$WORK/$(cat "$WORK/last_checkpoint" | xargs basename)"
"$PY" tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK" --show-dir painted \
  2>&1 | tee "$WORK/test_output.txt"
"$PY" tools/fuse.py "$CONFIG" "$CKPT" --ir data/demo/m3fd/Ir \
  --vis data/demo/m3fd/Vis --out "$WORK/fused" --panels

echo
echo "Demo finished. Outputs:"
echo "  checkpoint:          $CKPT"
echo "  training log:        $(ls -d "$WORK"/2*/ | tail -n 1)"
echo "  test metrics:        $WORK/test_output.txt"
echo "                       $(grep -o 'pascal_voc/mAP: [0-9.]*' "$WORK/test_output.txt" | tail -n 1)"
echo "                       $(grep -o 'coco/bbox_mAP: [0-9.-]*' "$WORK/test_output.txt" | tail -n 1)"
echo "  painted detections:  $(ls -d "$WORK"/2*/painted 2>/dev/null | tail -n 1)"
echo "  fused images:        $WORK/fused/ (panels in $WORK/fused/panels/)"
