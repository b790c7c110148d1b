"""Thin wrapper: ``python -m mrr_plugin.preparation.prepare_celeba`` (installed as ``mrr-prepare-celeba``)."""
from mrr_plugin.preparation.prepare_celeba import cli

if __name__ == '__main__':
    cli()
