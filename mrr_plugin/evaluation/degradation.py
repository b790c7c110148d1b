"""Using a trained High-to-Low generator as a data generator (Bulat et al., ECCV 2018): load it, degrade faces."""
import os.path as osp

import torch
from basicsr.archs import build_network

from mrr_plugin.data.face_image_io import to_tensor
from mrr_plugin.evaluation.methods import load_weights
from mrr_plugin.utils.option_file import load_option_file
from mrr_plugin.utils.visual import tensor_to_rgb


def load_network_from_training_options(option_file, network_key, checkpoint, device='cpu'):
    """``opt[network_key]`` of a training option file, with ``checkpoint``'s weights, in eval mode on ``device``."""
    opt = load_option_file(option_file)
    if network_key not in opt:
        raise ValueError(f'{option_file} has no {network_key} section.')
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint} does not exist.')
    return load_weights(build_network(opt[network_key]), checkpoint).eval().to(device)


def degrade_face(h2l, hr, index, seed=0):
    """H2L's LR face (RGB uint8) for the HR ``PIL.Image`` ``hr``; z is seeded by ``seed`` and the face ``index``,
    so a set of faces is degraded reproducibly."""
    device = next(h2l.parameters()).device
    z = torch.randn(1, h2l.noise_dim, generator=torch.Generator().manual_seed(seed * 1_000_003 + index))
    with torch.no_grad():
        lr = h2l(to_tensor(hr).unsqueeze(0).to(device), z.to(device))[0]
    return tensor_to_rgb(lr)
