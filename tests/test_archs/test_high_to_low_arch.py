import pytest
import torch
from basicsr.archs import build_network

from mrr_plugin.archs.high_to_low_arch import HighToLowGenerator


@pytest.mark.parametrize('hr_size, scale', [(64, 4), (128, 8)])
def test_maps_hr_faces_to_lr_faces_in_the_image_range(hr_size, scale):
    net = build_network({'type': 'HighToLowGenerator', 'hr_size': hr_size, 'scale': scale, 'num_feat': 16}).eval()
    assert isinstance(net, HighToLowGenerator)
    assert len(net.encoder) == int(torch.log2(torch.tensor(scale))) + 3  # down to LR / 4
    out = net(torch.rand(3, 3, hr_size, hr_size))
    assert out.shape == (3, 3, 16, 16) and out.min() >= 0 and out.max() <= 1
    assert net.noise_fc.out_features == hr_size * hr_size


def test_noise_is_an_input():
    net = HighToLowGenerator(num_feat=16).eval()
    hr, z = torch.rand(2, 3, 64, 64), torch.randn(2, 64)
    with torch.no_grad():
        torch.testing.assert_close(net(hr, z), net(hr, z))
        assert not torch.allclose(net(hr, z), net(hr, torch.randn(2, 64)))
        assert not torch.allclose(net(hr), net(hr))  # z drawn when not given


def test_skip_connections_reach_the_output():
    net = HighToLowGenerator(num_feat=8).eval()
    hr, z = torch.rand(1, 3, 64, 64, requires_grad=True), torch.randn(1, 64)
    features = {}
    net.encoder[2].register_forward_hook(lambda module, inputs, output: features.setdefault('lr', output))
    out = net(hr, z)
    (grad,) = torch.autograd.grad(out.sum(), features['lr'])
    assert features['lr'].shape[-1] == 16 and grad.abs().sum() > 0


def test_bad_configuration_and_input_size():
    with pytest.raises(ValueError):
        HighToLowGenerator(hr_size=64, scale=3)
    with pytest.raises(ValueError, match='64x64'):
        HighToLowGenerator()(torch.rand(1, 3, 32, 32))
