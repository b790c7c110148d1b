"""What a benchmark compares: bicubic and trained networks given as test-option YAMLs or checkpoint + arch."""
import hashlib
import os.path as osp
from dataclasses import dataclass, field

import torch
from basicsr.archs import build_network

from mrr_plugin.archs.pil_resize import pil_bicubic_resize
from mrr_plugin.archs.reference_checkpoint import unwrap_state_dict
from mrr_plugin.cli import load_options, parse_key_values
from mrr_plugin.utils.checkpoint_file import load_checkpoint

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


def _require_checkpoint(what, checkpoint):
    if not checkpoint or not osp.isfile(checkpoint):
        raise FileNotFoundError(f'{what}: checkpoint {checkpoint} does not exist.')


def load_weights(network, checkpoint, param_key='params', strict=True):
    """Load a BasicSR checkpoint (``param_key``, else ``params``) or a plain state dict into ``network``."""
    state = load_checkpoint(checkpoint)
    for key in (param_key, 'params'):  # BasicSR checkpoints; anything else is taken as a plain state dict
        if isinstance(state, dict) and key in state:
            state = state[key]
            break
    network.load_state_dict(unwrap_state_dict(state), strict=strict)
    return network


def _build(network_opt, what):
    """BasicSR's ``build_network``, with an unknown arch or argument as one sentence naming ``what``."""
    try:
        return build_network(dict(network_opt))
    except (KeyError, TypeError) as error:
        raise ValueError(f'{what}: cannot build {network_opt}: {str(error).strip(chr(34))}') from error


@dataclass
class NetworkSpec:
    """A trained network loaded from a spec: ``network`` (eval mode), ``network_opt``, the option file's other
    sections (``options``, empty for a checkpoint spec), a ``description`` and the files it came from."""
    network: torch.nn.Module
    network_opt: dict
    options: dict
    description: str
    sources: list


def load_network_spec(target, device='cpu', what='--model'):
    """``test_options.yml`` or ``checkpoint.pth@ARCH[:key=value,key=value]`` -> :class:`NetworkSpec` (the one parser
    of network specs: the benchmark's ``--method``, restore's ``--model``, export_onnx's ``--model``).

    A test-option YAML gives ``network_g`` and ``path.pretrain_network_g`` (``param_key_g``, ``strict_load_g``).
    """
    if target.endswith(('.yml', '.yaml')):
        opt = load_options(target, f'{what}: option file')
        try:
            network_opt, paths = dict(opt['network_g']), opt.get('path', {})
            checkpoint = paths['pretrain_network_g']
        except (KeyError, TypeError) as error:
            raise ValueError(f'{what}: {target} needs network_g and path.pretrain_network_g.') from error
        _require_checkpoint(what, checkpoint)
        network = load_weights(_build(network_opt, what), checkpoint, paths.get('param_key_g', 'params'),
                               paths.get('strict_load_g', True))
        return NetworkSpec(network.eval().to(device), network_opt, opt, f'{network_opt["type"]} from {target}',
                           [target, checkpoint])
    checkpoint, _, arch = target.partition('@')
    if not arch:
        raise ValueError(f'{what}: expected OPTIONS.yml or CHECKPOINT@ARCH[:key=value,...], got {target!r}.')
    arch, _, options = arch.partition(':')
    _require_checkpoint(what, checkpoint)
    network_opt = {'type': arch, **parse_key_values(options)}
    network = load_weights(_build(network_opt, what), checkpoint)
    return NetworkSpec(network.eval().to(device), network_opt, {}, f'{arch} {network_opt} from {checkpoint}',
                       [checkpoint])


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
