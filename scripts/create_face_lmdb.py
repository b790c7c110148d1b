"""Thin wrapper: ``python -m mrr_plugin.preparation.create_face_lmdb`` (installed as ``mrr-create-face-lmdb``)."""
from mrr_plugin.preparation.create_face_lmdb import cli

if __name__ == '__main__':
    cli()
