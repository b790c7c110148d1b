"""Trained networks from files: a checkpoint's weights, a test-option YAML, a ``checkpoint.pth@ARCH`` spec, a
training-option file's network section. The one loader that the benchmark, ``mrr-restore``, ``mrr-export-onnx`` and
the degradation scripts use."""
import os.path as osp
from dataclasses import dataclass

import torch
from basicsr.archs import build_network

from mrr_plugin.archs.reference_checkpoint import unwrap_state_dict
from mrr_plugin.utils.checkpoint_file import load_checkpoint
from mrr_plugin.utils.option_file import load_option_file, parse_key_values


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


def build_checked(network_opt, what):
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
        opt = load_option_file(target, what=f'{what}: option file')
        try:
            network_opt, paths = dict(opt['network_g']), opt.get('path', {})
            checkpoint = paths['pretrain_network_g']
        except (KeyError, TypeError) as error:
            raise ValueError(f'{what}: {target} needs network_g and path.pretrain_network_g.') from error
        _require_checkpoint(what, checkpoint)
        network = load_weights(build_checked(network_opt, what), checkpoint, paths.get('param_key_g', 'params'),
                               paths.get('strict_load_g', True))
        return NetworkSpec(network.eval().to(device), network_opt, opt, f'{network_opt["type"]} from {target}',
                           [target, checkpoint])
    checkpoint, _, arch = target.partition('@')
    if not arch:
        raise ValueError(f'{what}: expected OPTIONS.yml or CHECKPOINT@ARCH[:key=value,...], got {target!r}.')
    arch, _, options = arch.partition(':')
    _require_checkpoint(what, checkpoint)
    network_opt = {'type': arch, **parse_key_values(options)}
    network = load_weights(build_checked(network_opt, what), checkpoint)
    return NetworkSpec(network.eval().to(device), network_opt, {}, f'{arch} {network_opt} from {checkpoint}',
                       [checkpoint])


def load_network_from_training_options(option_file, network_key, checkpoint, device='cpu'):
    """``opt[network_key]`` of a training option file (e.g. ``network_h2l``), with ``checkpoint``'s weights, in eval
    mode on ``device``."""
    opt = load_option_file(option_file)
    if network_key not in opt:
        raise ValueError(f'{option_file} has no {network_key} section.')
    _require_checkpoint(option_file, checkpoint)
    return load_weights(build_checked(opt[network_key], option_file), checkpoint).eval().to(device)


def interpolate_specs(fidelity, other, weight, what='--weight'):
    """Network interpolation (Wang et al., ESRGAN, ECCV-W 2018, Sec. 3.4: theta = alpha theta_PSNR +
    (1 - alpha) theta_GAN; Real-ESRGAN's ``-dn``): a :class:`NetworkSpec` of ``fidelity``'s network whose every
    floating-point weight and buffer is ``weight * fidelity + (1 - weight) * other`` (``weight`` 1: ``fidelity``
    itself, e.g. MRRNet; 0: ``other``, e.g. MRRGAN). Both must be the same arch built with the same options (one
    ValueError line otherwise); integer buffers (BatchNorm's step count) are ``fidelity``'s."""
    if not 0 <= weight <= 1:
        raise ValueError(f'{what} {weight}: the fidelity weight lies in [0, 1] (1: --model, 0: --model-gan).')
    if fidelity.network_opt != other.network_opt:
        raise ValueError(f'{what}: the two checkpoints must be the same arch with the same options to interpolate; '
                         f'got {fidelity.network_opt} and {other.network_opt}.')
    theirs = other.network.state_dict()
    mixed = {}
    for key, value in fidelity.network.state_dict().items():
        if key not in theirs or theirs[key].shape != value.shape:
            raise ValueError(f'{what}: the checkpoints hold different weights ({key}); they are not of one arch.')
        # written out rather than torch.lerp: the ends are then the two checkpoints exactly
        mixed[key] = weight * value + (1 - weight) * theirs[key] if value.is_floating_point() else value
    fidelity.network.load_state_dict(mixed)
    return NetworkSpec(fidelity.network, fidelity.network_opt, fidelity.options,
                       f'{weight:g} x ({fidelity.description}) + {1 - weight:g} x ({other.description})',
                       fidelity.sources + other.sources)
