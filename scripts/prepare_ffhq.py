"""Thin wrapper: ``python -m mrr_plugin.preparation.prepare_ffhq`` (installed as ``mrr-prepare-ffhq``)."""
import sys

from mrr_plugin.preparation.prepare_ffhq import main

if __name__ == '__main__':
    sys.exit(main())
