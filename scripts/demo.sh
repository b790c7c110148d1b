#!/usr/bin/env bash
# The main job: set up the environment if needed, then train MRRNet briefly on CPU and compare it with bicubic.
#   bash scripts/demo.sh                                   # built-in synthetic cartoon faces
#   bash scripts/demo.sh ../shared/data/celeba_dic_dev     # real faces (DIR/HR [+ DIR/LR], or a folder of faces)
# Extra arguments go to `python -m mrr_plugin.demo` (e.g. --iters 600).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
faces=()
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then faces=(--faces "$1"); shift; fi
exec .venv/bin/python -m mrr_plugin.demo "${faces[@]}" "$@"
