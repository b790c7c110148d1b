"""Thin wrapper: ``python -m mrr_plugin.preparation.prepare_helen`` (installed as ``mrr-prepare-helen``)."""
import sys

from mrr_plugin.preparation.prepare_helen import main

if __name__ == '__main__':
    sys.exit(main())
