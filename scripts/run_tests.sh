#!/usr/bin/env bash
# Set up the environment if needed, lint, then run the test suite on two pytest-xdist workers of one torch thread
# each (extra arguments go to pytest, e.g. -n 0 for one process,
# -m "not slow" to skip the end-to-end runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
.venv/bin/python -m flake8 mrr_plugin scripts tests setup.py mrr_basicsr_compat.py
.venv/bin/python -m isort --check-only mrr_plugin scripts tests setup.py mrr_basicsr_compat.py
exec .venv/bin/python -m pytest -n 2 --dist load --maxschedchunk 1 -ra --durations=15 "$@"
