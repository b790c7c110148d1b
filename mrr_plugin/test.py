"""``python -m mrr_plugin.test -opt options/test/<Method>/<file>.yml``: BasicSR's test pipeline, results in results/."""
from basicsr.test import test_pipeline

import mrr_plugin  # noqa: F401  (patches basicsr, fills the registries)
from mrr_plugin.utils import project_root


def main():
    test_pipeline(project_root())


if __name__ == '__main__':
    main()
