"""Register every `*_model.py` of this folder in BasicSR's MODEL_REGISTRY."""
from mrr_plugin.utils import import_modules_with_suffix

_modules = import_modules_with_suffix(__name__, __file__, '_model')
