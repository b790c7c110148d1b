"""``python -m mrr_plugin.train -opt options/train/<Method>/<file>.yml [--auto_resume] [--debug] [--force_yml ...]
[--check-data headers|full|none]``.

Registers the plugin's classes, checks the options and the data (nothing is created or archived when they have a
problem), then runs the training pipeline (:mod:`mrr_plugin.pipelines.train_pipeline`: BasicSR's, with safe option
loading and an exact resume) with the project root as root path (``experiments/`` and ``tb_logger/`` are created
there, wherever the command is run from).
"""
import sys

import mrr_plugin  # noqa: F401  (patches basicsr, fills the registries)
from mrr_plugin.cli import command
from mrr_plugin.pipelines.entry_point import run_pipeline
from mrr_plugin.pipelines.train_pipeline import train_pipeline


@command
def main(argv=None):
    """Exit status 0, or 1 (bad input), 2 (options), 3 (a non-finite value), 4 (an unreadable face), 5 (the run's
    folder is held by another live run), each with one ``error:`` line."""
    run_pipeline(train_pipeline, for_training=True, argv=argv)
    return 0


if __name__ == '__main__':
    sys.exit(main())
