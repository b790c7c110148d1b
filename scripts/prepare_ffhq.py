"""Thin wrapper: ``python -m mrr_plugin.preparation.prepare_ffhq`` (installed as ``mrr-prepare-ffhq``)."""
from mrr_plugin.preparation.prepare_ffhq import cli

if __name__ == '__main__':
    cli()
