import pytest
import torch
from basicsr.archs import build_network

from mrr_plugin.archs.sparnet_arch import HourglassAttention, SPARNet
from tests.conftest import assert_computes_reference, reference_keys, state_shapes


def count_parameters(net):
    return sum(p.numel() for p in net.parameters())


def test_registered_default_and_light_parameter_counts():
    net = build_network({'type': 'SPARNet'})
    assert isinstance(net, SPARNet) and count_parameters(net) == 10_518_867
    assert count_parameters(SPARNet(res_depth=1, attention='spar3d')) == 5_242_211


def test_hourglass_depths_and_attention_shapes():
    net = SPARNet().eval()
    depths = [m.att_func.depth for m in [*net.encoder[1:], *net.res_layers, *net.decoder]]
    assert depths == [4, 3, 2] + [2] * 10 + [3, 4, 5]  # bottleneck 4x4 everywhere
    with torch.no_grad():
        assert net(torch.rand(2, 3, 16, 16)).shape == (2, 3, 128, 128)
    assert all(m.shape[1] == 1 for m in net.attention_maps().values())
    light = SPARNet(res_depth=1, attention='spar3d').eval()
    with torch.no_grad():
        light(torch.rand(1, 3, 16, 16))
    assert [m.shape[1] for m in light.attention_maps().values()] == [64, 128, 128, 128, 128, 64, 32]


def test_attention_branch_multiplies_features():
    attention = HourglassAttention(2, 16, 1, mid_channels=8).eval()
    features = torch.randn(1, 16, 16, 16)
    with torch.no_grad():
        out = attention(features)
    torch.testing.assert_close(out, attention.last_map * features)
    with pytest.raises(ValueError):
        SPARNet(attention='spar2d')


def test_state_dict_keys_match_the_authors():
    assert state_shapes(SPARNet()) == reference_keys('sparnet_g')
    assert state_shapes(SPARNet(res_depth=1, attention='spar3d')) == reference_keys('sparnet_light_g')


def test_computes_the_authors_function():
    assert_computes_reference(SPARNet(upscale=1), 'sparnet_g')
