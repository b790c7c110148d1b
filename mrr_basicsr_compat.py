"""Makes ``import basicsr`` work on its own in an environment where mrr_plugin is installed.

torchvision >= 0.17 removed ``torchvision.transforms.functional_tensor``, which basicsr 1.4.2's
``basicsr/data/degradations.py`` imports (the most reported install break in the BasicSR, Real-ESRGAN and GFPGAN
trackers). mrr_plugin installs ``mrr_basicsr_compat.pth`` beside the packages, so every interpreter calls
:func:`install` at start-up: it appends an import finder that maps the old name to torchvision's
``_functional_tensor`` when, and only when, the old name is imported and torchvision itself does not have it. Nothing
is imported at start-up. ``mrr_plugin.compat`` calls the same function (one place for this fact).
"""
import importlib
import importlib.abc
import importlib.util
import sys

OLD_NAME = 'torchvision.transforms.functional_tensor'
NEW_NAME = 'torchvision.transforms._functional_tensor'


class FunctionalTensorAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on ``sys.meta_path``: asked only after the real finders found no ``functional_tensor``."""

    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_loader(name, self) if name == OLD_NAME else None

    def create_module(self, spec):
        return importlib.import_module(NEW_NAME)

    def exec_module(self, module):
        pass


def install():
    if not any(isinstance(finder, FunctionalTensorAlias) for finder in sys.meta_path):
        sys.meta_path.append(FunctionalTensorAlias())
