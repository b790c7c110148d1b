"""Thin wrapper: ``python -m mrr_plugin.preparation.prepare_faces`` (installed as ``mrr-prepare-faces``)."""
from mrr_plugin.preparation.prepare_faces import cli

if __name__ == '__main__':
    cli()
