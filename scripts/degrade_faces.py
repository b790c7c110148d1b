"""Thin wrapper: ``python -m mrr_plugin.preparation.degrade_faces`` (installed as ``mrr-degrade-faces``)."""
from mrr_plugin.preparation.degrade_faces import cli

if __name__ == '__main__':
    cli()
