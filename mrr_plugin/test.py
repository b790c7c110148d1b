"""``python -m mrr_plugin.test -opt options/test/<Method>/<file>.yml [--check-data headers|full|none]``: BasicSR's
test pipeline on safely read options (:mod:`mrr_plugin.pipelines.test_pipeline`), results in results/."""
import sys

import mrr_plugin  # noqa: F401  (patches basicsr, fills the registries)
from mrr_plugin.cli import command
from mrr_plugin.pipelines.entry_point import run_pipeline
from mrr_plugin.pipelines.test_pipeline import test_pipeline


@command
def main(argv=None):
    """Exit status 0, or 1 (bad input), 2 (options), 3 (a non-finite value), 4 (an unreadable face), 5 (the run's
    folder is held by another live run), each with one ``error:`` line."""
    run_pipeline(test_pipeline, for_training=False, argv=argv)
    return 0


if __name__ == '__main__':
    sys.exit(main())
