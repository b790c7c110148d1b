"""What a benchmark compares: bicubic and trained networks given as test-option YAMLs or checkpoint + arch."""
import hashlib
import os
import os.path as osp
from dataclasses import dataclass, field

import torch
import yaml
from basicsr.archs import build_network

from mrr_plugin.archs.pil_resize import pil_bicubic_resize
from mrr_plugin.archs.reference_checkpoint import unwrap_state_dict

BICUBIC = 'bicubic'


@dataclass
class Method:
    """A named SR method: ``network`` maps LR (N, 3, h, w) in [0, 1] to SR in [0, 1]; None means PIL bicubic."""
    name: str
    network: torch.nn.Module = None
    description: str = ''
    sources: list = field(default_factory=list)  # files whose content identifies the method (for resuming)

    def fingerprint(self):
        digest = hashlib.sha1(f'{self.name}|{self.description}'.encode())
        for path in self.sources:
            stat = os.stat(path)
            digest.update(f'{osp.realpath(path)}|{stat.st_size}|{stat.st_mtime_ns}'.encode())
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


def _require_checkpoint(name, checkpoint):
    if not checkpoint or not osp.isfile(checkpoint):
        raise FileNotFoundError(f'--method {name}: checkpoint {checkpoint} does not exist.')


def load_weights(network, checkpoint, param_key='params', strict=True):
    """Load a BasicSR checkpoint (``param_key``, else ``params``) or a plain state dict into ``network``."""
    state = torch.load(checkpoint, map_location='cpu', weights_only=True)
    for key in (param_key, 'params'):  # BasicSR checkpoints; anything else is taken as a plain state dict
        if isinstance(state, dict) and key in state:
            state = state[key]
            break
    network.load_state_dict(unwrap_state_dict(state), strict=strict)
    return network


def parse_value(text):
    """``key=value`` option values: YAML scalars/lists (``8``, ``true``, ``[1, 3]``)."""
    return yaml.safe_load(text)


def method_from_spec(spec, device='cpu'):
    """``NAME=test_options.yml`` or ``NAME=checkpoint.pth@ARCH[:key=value,key=value]`` -> Method.

    A test-option YAML gives ``network_g`` and ``path.pretrain_network_g`` (``param_key_g``, ``strict_load_g``).
    """
    if '=' not in spec:
        raise ValueError(f'--method {spec!r}: expected NAME=options.yml or NAME=checkpoint.pth@ARCH.')
    name, target = spec.split('=', 1)
    if not name or name in ('.', '..') or any(c in name for c in '/\\\0'):
        raise ValueError(f'--method {name!r}: a method name may not be empty, "." or ".." nor hold "/" or "\\" (it '
                         'names files under --out).')
    if name == BICUBIC:
        raise ValueError('"bicubic" is always included; give the other methods other names.')
    if target.endswith(('.yml', '.yaml')):
        if not osp.isfile(target):
            raise FileNotFoundError(f'--method {name}: option file {target} does not exist.')
        with open(target) as f:
            opt = yaml.safe_load(f)
        try:
            network_opt, paths = dict(opt['network_g']), opt.get('path', {})
            checkpoint = paths['pretrain_network_g']
        except (KeyError, TypeError) as error:
            raise ValueError(f'--method {name}: {target} needs network_g and path.pretrain_network_g.') from error
        _require_checkpoint(name, checkpoint)
        network = load_weights(build_network(network_opt), checkpoint, paths.get('param_key_g', 'params'),
                               paths.get('strict_load_g', True))
        description, sources = f'{network_opt["type"]} from {target}', [target, checkpoint]
    else:
        checkpoint, _, arch = target.partition('@')
        if not arch:
            raise ValueError(f'--method {name}: expected CHECKPOINT@ARCH, got {target!r}.')
        arch, _, options = arch.partition(':')
        _require_checkpoint(name, checkpoint)
        network_opt = {'type': arch}
        for pair in filter(None, options.split(',')):
            key, _, value = pair.partition('=')
            network_opt[key] = parse_value(value)
        network = load_weights(build_network(network_opt), checkpoint)
        description, sources = f'{arch} {network_opt} from {checkpoint}', [checkpoint]
    return Method(name, network.eval().to(device), description, sources)
