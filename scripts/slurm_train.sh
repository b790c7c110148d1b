#!/usr/bin/env bash
# SLURM training, one task per GPU (BasicSR's --launcher slurm):
#   GPUS=16 GPUS_PER_NODE=8 bash scripts/slurm_train.sh PARTITION JOB_NAME OPTION_FILE [train args]
set -euo pipefail
if [ $# -lt 3 ]; then echo "usage: $0 PARTITION JOB_NAME OPTION_FILE [train args]" >&2; exit 2; fi
PARTITION=$1; JOB_NAME=$2; OPT=$3; shift 3
GPUS=${GPUS:-8}; GPUS_PER_NODE=${GPUS_PER_NODE:-8}; CPUS_PER_TASK=${CPUS_PER_TASK:-4}
cd "$(dirname "$0")/.."
exec srun -p "$PARTITION" --job-name="$JOB_NAME" --gres=gpu:"$GPUS_PER_NODE" --ntasks="$GPUS" \
  --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1 \
  .venv/bin/python -u -m mrr_plugin.train -opt "$OPT" --launcher slurm "$@"
