#!/usr/bin/env bash
# Multi-GPU (or multi-process CPU) training on one machine with torchrun:
#   bash scripts/dist_train.sh NUM_PROCESSES options/train/MRRNet/train_MRRNet_x8_CelebA.yml [--auto_resume ...]
# nccl on GPUs, gloo on CPU-only machines (dist_params.backend overrides). PORT=29500 by default.
set -euo pipefail
if [ $# -lt 2 ]; then echo "usage: $0 NUM_PROCESSES OPTION_FILE [train args]" >&2; exit 2; fi
NPROC=$1; OPT=$2; shift 2
cd "$(dirname "$0")/.."
exec .venv/bin/torchrun --nproc_per_node="$NPROC" --master_port="${PORT:-29500}" \
  -m mrr_plugin.train -opt "$OPT" --launcher pytorch "$@"
