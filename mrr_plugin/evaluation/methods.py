"""What a benchmark compares: bicubic and trained networks given as test-option YAMLs or checkpoint + arch."""
import hashlib
from dataclasses import dataclass, field

import torch

from mrr_plugin.archs.network_spec import load_network_spec
from mrr_plugin.archs.pil_resize import pil_bicubic_resize

BICUBIC = 'bicubic'


@dataclass
class Method:
    """A named SR method: ``network`` maps LR (N, 3, h, w) in [0, 1] to SR in [0, 1]; None means PIL bicubic."""
    name: str
    network: torch.nn.Module = None
    description: str = ''
    sources: list = field(default_factory=list)  # files whose content identifies the method (for reuse)

    def fingerprint(self):
        """A digest of the method's name, description (arch and its options) and the bytes of its files (option
        file, weights): a stored result is reused only for exactly this network."""
        digest = hashlib.sha256(f'{self.name}|{self.description}'.encode())
        for path in self.sources:
            with open(path, 'rb') as f:
                digest.update(hashlib.file_digest(f, 'sha256').digest())
        return digest.hexdigest()

    def super_resolve(self, lr, scale):
        """SR batch in [0, 1] (PIL bicubic, a = -0.5, 8-bit like PIL, for the bicubic baseline); ValueError if the
        network outputs NaN or infinity (such a network is refused, never scored)."""
        if self.network is None:
            return pil_bicubic_resize(lr, (lr.shape[-2] * scale, lr.shape[-1] * scale), quantize=True)
        with torch.no_grad():
            sr = self.network(lr)
        if not bool(torch.isfinite(sr).all()):
            raise ValueError(f'--method {self.name}: the network outputs non-finite values (NaN or infinity), so '
                             'it is not scored; are its weights from a run that diverged?')
        return sr.clamp(0, 1)


def bicubic_method():
    return Method(BICUBIC, None, "PIL bicubic (Keys a = -0.5, as published tables; not torch's a = -0.75)")


def method_from_spec(spec, device='cpu'):
    """``NAME=test_options.yml`` or ``NAME=checkpoint.pth@ARCH[:key=value,key=value]`` -> Method."""
    if '=' not in spec:
        raise ValueError(f'--method {spec!r}: expected NAME=options.yml or NAME=checkpoint.pth@ARCH.')
    name, target = spec.split('=', 1)
    if not name or name in ('.', '..') or any(c in name for c in '/\\\0'):
        raise ValueError(f'--method {name!r}: a method name may not be empty, "." or ".." nor hold "/" or "\\" (it '
                         'names files under --out).')
    if name == BICUBIC:
        raise ValueError('"bicubic" is always included; give the other methods other names.')
    loaded = load_network_spec(target, device, f'--method {name}')
    return Method(name, loaded.network, loaded.description, loaded.sources)
