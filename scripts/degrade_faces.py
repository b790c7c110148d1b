"""Thin wrapper: ``python -m mrr_plugin.preparation.degrade_faces`` (installed as ``mrr-degrade-faces``)."""
import sys

from mrr_plugin.preparation.degrade_faces import main

if __name__ == '__main__':
    sys.exit(main())
