"""Side-by-side evaluation of face SR methods (used by ``python -m mrr_plugin.benchmark``)."""
