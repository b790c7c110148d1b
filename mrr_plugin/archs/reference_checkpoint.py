"""Turn the authors' released state dicts into BasicSR checkpoints: SYLan2019/MRRNet, chaofengc/Face-SPARNet,
PRIS-CV/WFEN, wcy-cs/SFMNet and Maclory/Deep-Iterative-Collaboration (DIC and DICGAN share the generator).

The authors' networks take the LR face already upsampled (MRRNet, SPARNet, WFEN: PIL bicubic in [-1, 1]; SFMNet:
PIL bicubic in [0, 1]) or minus their RGB mean (DIC); ours take the 16x16 LR in [0, 1] and give the SR face in
[0, 1], with the authors' convention inside (``range_norm: true`` and ``upscale: 8`` where the class has them):
e.g. ``ours(lr) == (ref(2 * bicubic_up(lr) - 1) + 1) / 2`` (for the discriminator: ``ours(x) == ref(2 * x - 1)``).
"""
import torch
from basicsr.utils.registry import ARCH_REGISTRY

from mrr_plugin.archs.wfen_arch import HAAR_FILTERS

CONVERTIBLE_ARCHS = ('MRRNet', 'SPARNet', 'MRRPatchDiscriminator', 'WFEN', 'SFMNet', 'DIC')
# constructor options that put the authors' input/output convention inside our class, per arch
AUTHORS_CONVENTION = {'MRRNet': {'range_norm': True, 'upscale': 8}, 'SPARNet': {'range_norm': True, 'upscale': 8},
                      'MRRPatchDiscriminator': {'range_norm': True}, 'WFEN': {'range_norm': True, 'upscale': 8},
                      'SFMNet': {'upscale': 8}, 'DIC': {}}


def unwrap_state_dict(checkpoint):
    """A plain state dict from what the authors saved (maybe under 'state_dict' or DIC's 'netG', maybe
    'module.'-prefixed by DataParallel)."""
    state_dict = checkpoint
    if isinstance(checkpoint, dict):
        for key in ('state_dict', 'netG'):
            if isinstance(checkpoint.get(key), dict):
                state_dict = checkpoint[key]
                break
    if not isinstance(state_dict, dict) or not state_dict:
        raise ValueError('The file does not hold a state dict (a mapping of parameter names to tensors).')
    return {(k[len('module.'):] if k.startswith('module.') else k): v for k, v in state_dict.items()}


def drop_authors_constants(arch_type, state_dict):
    """Remove what the authors stored but our classes do not hold: WFEN's fixed Haar filters (``*.haar_weights``,
    checked to be the Haar filters: anything else is not WFEN's function) and SFMNet's fusion-block attention
    that their forward never calls (``*.spa_att.*``)."""
    kept = {}
    for key, value in state_dict.items():
        if arch_type == 'WFEN' and key.endswith('.haar_weights'):
            channels = value.shape[0] // 4
            if tuple(value.shape) != (4 * channels, 1, 2, 2) or not torch.equal(
                    value.float().cpu(), HAAR_FILTERS.repeat(channels, 1, 1).unsqueeze(1)):
                raise ValueError(f'{key} is not the fixed Haar filter bank WFEN uses.')
        elif not (arch_type == 'SFMNet' and '.spa_att.' in key):
            kept[key] = value
    return kept


def convert_reference_state_dict(arch_type, checkpoint, **arch_kwargs):
    """BasicSR checkpoint ``{'params': state_dict}`` for ``arch_type``, checked by a strict load into our class.

    ``arch_kwargs`` select a variant (e.g. SPARNet-Light: ``res_depth=1, attention='spar3d'``). Raises
    ValueError naming missing / unexpected / mis-shaped keys when the weights do not fit.
    """
    if arch_type not in CONVERTIBLE_ARCHS:
        raise ValueError(f'--arch must be one of {CONVERTIBLE_ARCHS}, got {arch_type!r}.')
    state_dict = drop_authors_constants(arch_type, unwrap_state_dict(checkpoint))
    net = ARCH_REGISTRY.get(arch_type)(**arch_kwargs)
    expected = net.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    misshaped = sorted(k for k in set(expected) & set(state_dict)
                       if tuple(expected[k].shape) != tuple(state_dict[k].shape))
    if missing or unexpected or misshaped:
        raise ValueError(f'These weights are not a {arch_type}{arch_kwargs or ""}: missing {missing[:5]} '
                         f'({len(missing)}), unexpected {unexpected[:5]} ({len(unexpected)}), wrong shape '
                         f'{misshaped[:5]} ({len(misshaped)}).')
    net.load_state_dict(state_dict, strict=True)
    return {'params': net.state_dict()}
