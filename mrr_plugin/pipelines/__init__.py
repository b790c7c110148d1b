"""The train and test pipelines behind ``python -m mrr_plugin.train`` / ``mrr_plugin.test``: BasicSR's, owned here
where upstream's loses runs (unsafe option loading, inexact resume)."""
