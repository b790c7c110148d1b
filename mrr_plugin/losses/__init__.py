"""Register every `*_loss.py` of this folder in BasicSR's LOSS_REGISTRY."""
from mrr_plugin.utils import import_modules_with_suffix

_modules = import_modules_with_suffix(__name__, __file__, '_loss')
