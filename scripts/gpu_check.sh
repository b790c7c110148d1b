#!/usr/bin/env bash
# Every GPU path at once, on the first machine with a CUDA device: the tests marked `gpu` (fp16 and bf16 training
# steps with resume, torch.compile on CUDA, nccl DDP when two GPUs exist, benchmark_speed.py on CUDA).
# Prints one summary line per test and pytest's closing line; takes a few minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
PY=${MRR_VENV:-.venv}/bin/python
if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  echo "gpu_check: no CUDA device visible to torch; nothing to check." >&2
  exit 1
fi
"$PY" -c "import torch; print('gpu_check:', torch.cuda.device_count(), 'x', torch.cuda.get_device_name(0), \
  '| torch', torch.__version__, '| CUDA', torch.version.cuda)"
"$PY" -m pytest -m gpu -p no:cacheprovider -rA -q tests | grep -E '^(PASSED|FAILED|SKIPPED|ERROR)|passed|failed'
exit "${PIPESTATUS[0]}"
