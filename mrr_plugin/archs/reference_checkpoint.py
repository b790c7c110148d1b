"""Turn the authors' released state dicts (SYLan2019/MRRNet, chaofengc/Face-SPARNet) into BasicSR checkpoints.

Their networks work in [-1, 1] on a face already bicubic-upsampled to 128x128; ours take the 16x16 LR in [0, 1].
Built with ``range_norm: true`` (and ``upscale: 8``), our classes loaded with the converted weights compute
``ours(lr) == (ref(2 * bicubic_up(lr) - 1) + 1) / 2`` (for the discriminator: ``ours(x) == ref(2 * x - 1)``).
"""
from basicsr.utils.registry import ARCH_REGISTRY

CONVERTIBLE_ARCHS = ('MRRNet', 'SPARNet', 'MRRPatchDiscriminator')


def unwrap_state_dict(checkpoint):
    """A plain state dict from what the authors saved (maybe under 'state_dict', maybe 'module.'-prefixed)."""
    state_dict = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state_dict, dict) or not state_dict:
        raise ValueError('The file does not hold a state dict (a mapping of parameter names to tensors).')
    return {(k[len('module.'):] if k.startswith('module.') else k): v for k, v in state_dict.items()}


def convert_reference_state_dict(arch_type, checkpoint, **arch_kwargs):
    """BasicSR checkpoint ``{'params': state_dict}`` for ``arch_type``, checked by a strict load into our class.

    ``arch_kwargs`` select a variant (e.g. SPARNet-Light: ``res_depth=1, attention='spar3d'``). Raises
    ValueError naming missing / unexpected / mis-shaped keys when the weights do not fit.
    """
    if arch_type not in CONVERTIBLE_ARCHS:
        raise ValueError(f'--arch must be one of {CONVERTIBLE_ARCHS}, got {arch_type!r}.')
    state_dict = unwrap_state_dict(checkpoint)
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
