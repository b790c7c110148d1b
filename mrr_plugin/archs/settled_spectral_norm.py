"""Spectral normalisation (Miyato et al., ICLR 2018) on every conv of a network, with power-iteration vectors settled
at construction so a fresh or loaded network is usable in eval mode (SPARNetHD's G and D, the GAN discriminators)."""
import torch
from torch import nn
from torch.nn.utils import spectral_norm as add_spectral_norm
from torch.nn.utils.spectral_norm import SpectralNorm


def apply_spectral_norm(module):
    """Spectral norm (Miyato et al. 2018) on every conv of ``module``, with settled power-iteration vectors."""
    for submodule in module.modules():
        if isinstance(submodule, nn.Conv2d):
            add_spectral_norm(submodule)
    settle_spectral_norm(module)
    return module


def settle_spectral_norm(module, iterations=30):
    """Run power iterations on every spectral-norm weight of ``module`` so its stored u/v are meaningful.

    ``torch.nn.utils.spectral_norm`` starts from random u/v and refines them one step per *train-mode* forward; a
    net evaluated before any such forward divides by a wrong sigma and outputs garbage. u/v are buffers
    (``weight_u``/``weight_v``), so the settled state is saved and loaded with the checkpoint.
    """
    with torch.no_grad():
        for submodule in module.modules():
            for hook in submodule._forward_pre_hooks.values():
                if isinstance(hook, SpectralNorm):
                    weight = hook.reshape_weight_to_matrix(getattr(submodule, f'{hook.name}_orig'))
                    u, v = getattr(submodule, f'{hook.name}_u'), getattr(submodule, f'{hook.name}_v')
                    for _ in range(iterations):
                        v.copy_(nn.functional.normalize(weight.t() @ u, dim=0, eps=hook.eps))
                        u.copy_(nn.functional.normalize(weight @ v, dim=0, eps=hook.eps))
                    setattr(submodule, hook.name, hook.compute_weight(submodule, do_power_iteration=False))
