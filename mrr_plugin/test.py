"""``python -m mrr_plugin.test -opt options/test/<Method>/<file>.yml [--check-data headers|full|none]``: BasicSR's
test pipeline on safely read options (:mod:`mrr_plugin.pipelines.test_pipeline`), results in results/."""
import mrr_plugin  # noqa: F401  (patches basicsr, fills the registries)
from mrr_plugin.pipelines.entry_point import run_pipeline
from mrr_plugin.pipelines.test_pipeline import test_pipeline


def main():
    run_pipeline(test_pipeline, for_training=False)


if __name__ == '__main__':
    main()
