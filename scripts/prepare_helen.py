"""Thin wrapper: ``python -m mrr_plugin.preparation.prepare_helen`` (installed as ``mrr-prepare-helen``)."""
from mrr_plugin.preparation.prepare_helen import cli

if __name__ == '__main__':
    cli()
