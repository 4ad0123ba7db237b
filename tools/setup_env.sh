#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv and install
# tdfusion_mm with its pinned stack. Idempotent: a second run only checks a
# stamp and returns in about a second.
#
#   bash tools/setup_env.sh        # then: source .venv/bin/activate
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TDFUSION_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
STAMP="$VENV/.tdfusion_mm_stamp"
WANT="$(cat "$ROOT/requirements.txt" "$ROOT/requirements-test.txt" "$ROOT/setup.py" | sha1sum | cut -d' ' -f1)"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
  echo "[setup] environment $VENV is up to date"
  exit 0
fi

echo "[setup] creating/updating environment in $VENV (first run: 30-45 min on 2 cores, mmcv compiles)"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install --disable-pip-version-check -q)
# mmcv's setup.py imports pkg_resources, which setuptools>=81 removed.
"${PIP[@]}" "setuptools<81" wheel
# The CPU wheel of torch first, so that nothing pulls a CUDA build.
"${PIP[@]}" torch==2.13.0 "setuptools<81"
"${PIP[@]}" mmengine==0.10.7 numpy opencv-python ftfy regex "setuptools<81" \
  -r "$ROOT/requirements-test.txt"
if ! "$VENV/bin/python" -c "import mmcv.ops" 2>/dev/null; then
  # No wheel for this torch: build from source with the compiled ops
  # (35-45 minutes on 2 cores; pip caches the wheel for later runs).
  MMCV_WITH_OPS=1 "${PIP[@]}" --no-build-isolation mmcv==2.1.0 "setuptools<81"
fi
"${PIP[@]}" mmdet==3.3.0 mmsegmentation==1.2.2 "setuptools<81"
"${PIP[@]}" --no-build-isolation --no-deps -e "$ROOT"
"$VENV/bin/python" -c "import mmcv.ops, mmdet, mmseg, tdfusion_mm; print('[setup] ok: mmcv', mmcv.__version__, 'mmdet', mmdet.__version__, 'mmseg', mmseg.__version__)"
echo "$WANT" > "$STAMP"
