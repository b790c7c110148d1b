"""``python -m mrr_plugin.train -opt options/train/<Method>/<file>.yml [--auto_resume] [--debug] [--force_yml ...]
[--check-data headers|full|none]``.

Registers the plugin's classes, checks the options and the data (nothing is created or archived when they have a
problem), then runs the training pipeline (:mod:`mrr_plugin.pipelines.train_pipeline`: BasicSR's, with safe option
loading and an exact resume) with the project root as root path (``experiments/`` and ``tb_logger/`` are created
there, wherever the command is run from).
"""
import mrr_plugin  # noqa: F401  (patches basicsr, fills the registries)
from mrr_plugin.pipelines.entry_point import run_pipeline
from mrr_plugin.pipelines.train_pipeline import train_pipeline


def main():
    run_pipeline(train_pipeline, for_training=True)


if __name__ == '__main__':
    main()
