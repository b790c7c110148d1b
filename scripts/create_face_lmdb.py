"""Thin wrapper: ``python -m mrr_plugin.preparation.create_face_lmdb`` (installed as ``mrr-create-face-lmdb``)."""
import sys

from mrr_plugin.preparation.create_face_lmdb import main

if __name__ == '__main__':
    sys.exit(main())
