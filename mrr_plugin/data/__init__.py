"""Register every `*_dataset.py` of this folder in BasicSR's DATASET_REGISTRY."""
from mrr_plugin.utils import import_modules_with_suffix

_modules = import_modules_with_suffix(__name__, __file__, '_dataset')
