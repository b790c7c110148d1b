"""Thin wrapper: ``python -m mrr_plugin.preparation.prepare_faces`` (installed as ``mrr-prepare-faces``)."""
import sys

from mrr_plugin.preparation.prepare_faces import main

if __name__ == '__main__':
    sys.exit(main())
