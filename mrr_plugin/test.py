"""``python -m mrr_plugin.test -opt options/test/<Method>/<file>.yml``: BasicSR's test pipeline on safely read options
(:mod:`mrr_plugin.pipelines.test_pipeline`), results in results/."""
import sys

import mrr_plugin  # noqa: F401  (patches basicsr, fills the registries)
from mrr_plugin.models.nonfinite_guard import NONFINITE_EXIT, NonFiniteOutput
from mrr_plugin.pipelines.test_pipeline import test_pipeline
from mrr_plugin.utils import project_root
from mrr_plugin.utils.option_check import exit_on_option_problems


def main():
    exit_on_option_problems(sys.argv[1:], for_training=False)  # before anything is created or archived
    try:
        test_pipeline(project_root())
    except NonFiniteOutput as error:
        print(f'error: {error}', file=sys.stderr, flush=True)
        sys.exit(NONFINITE_EXIT)


if __name__ == '__main__':
    main()
