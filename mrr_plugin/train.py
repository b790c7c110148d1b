"""``python -m mrr_plugin.train -opt options/train/<Method>/<file>.yml [--auto_resume] [--debug] [--force_yml ...]``.

Registers the plugin's classes, checks the options (nothing is created or archived when they have a problem), then
runs the training pipeline (:mod:`mrr_plugin.pipelines.train_pipeline`: BasicSR's, with safe option loading and an
exact resume) with the project root as root path (``experiments/`` and ``tb_logger/`` are created there, wherever
the command is run from).
"""
import sys

import mrr_plugin  # noqa: F401  (patches basicsr, fills the registries)
from mrr_plugin.models.nonfinite_guard import NONFINITE_EXIT, NonFiniteTraining
from mrr_plugin.pipelines.train_pipeline import train_pipeline
from mrr_plugin.utils import project_root
from mrr_plugin.utils.option_check import exit_on_option_problems


def main():
    exit_on_option_problems(sys.argv[1:], for_training=True)  # before anything is created or archived
    try:
        train_pipeline(project_root())
    except NonFiniteTraining as error:
        print(f'error: {error}', file=sys.stderr, flush=True)
        sys.exit(NONFINITE_EXIT)


if __name__ == '__main__':
    main()
