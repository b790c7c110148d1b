"""Thin wrapper: ``python -m mrr_plugin.preparation.prepare_dic`` (installed as ``mrr-prepare-dic``)."""
import sys

from mrr_plugin.preparation.prepare_dic import main

if __name__ == '__main__':
    sys.exit(main())
