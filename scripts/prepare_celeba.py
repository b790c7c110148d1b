"""Thin wrapper: ``python -m mrr_plugin.preparation.prepare_celeba`` (installed as ``mrr-prepare-celeba``)."""
import sys

from mrr_plugin.preparation.prepare_celeba import main

if __name__ == '__main__':
    sys.exit(main())
