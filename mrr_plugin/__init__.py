"""mrr_plugin: face super-resolution (MRRNet, MRRGAN, SPARNet and baselines) as a BasicSR plugin.

Importing the package patches basicsr 1.4.2 for today's libraries (``compat``) and registers every arch, dataset,
loss, metric and model in BasicSR's registries.
"""
from mrr_plugin import compat  # noqa: F401  (must come first)
from mrr_plugin import archs, data, losses, metrics, models  # noqa: F401,E402

__version__ = '0.1.0'
