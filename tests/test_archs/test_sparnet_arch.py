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
    torch.testing.assert_close(out, attention.attention_map() * features)
    with pytest.raises(ValueError):
        SPARNet(attention='spar2d')


def test_state_dict_keys_match_the_authors():
    assert state_shapes(SPARNet()) == reference_keys('sparnet_g')
    assert state_shapes(SPARNet(res_depth=1, attention='spar3d')) == reference_keys('sparnet_light_g')


def test_computes_the_authors_function():
    assert_computes_reference(SPARNet(upscale=1, range_norm=False), 'sparnet_g')  # their [-1, 1] in/out


SPARNETHD = dict(upscale=1, in_size=512, min_ch=32, max_ch=512, min_feat_size=32, res_depth=10, norm_type='in',
                 spectral_norm=True)


def test_sparnethd_configuration_has_the_papers_size_and_spectral_norm_everywhere():
    net = build_network({'type': 'SPARNet', **SPARNETHD})
    assert count_parameters(net) == 85_793_412
    widths = [block.conv2.conv2d.weight_orig.shape[0] for block in net.encoder[1:]]
    assert widths == [204, 408, 512, 512] and len(net.res_layers) == 9
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(hasattr(conv, 'weight_orig') and hasattr(conv, 'weight_u') for conv in convs)
    assert isinstance(net.encoder[1].conv1.norm.norm, torch.nn.InstanceNorm2d)


@pytest.mark.parametrize('norm_type, checkpoint_blocks', [('in', 'body'), ('bn', 'body'), ('bn', 'all')])
def test_checkpointing_gives_the_same_outputs_gradients_and_state(norm_type, checkpoint_blocks):
    kwargs = dict(upscale=1, in_size=64, min_ch=8, max_ch=16, min_feat_size=16, res_depth=3, mid_channels=8,
                  norm_type=norm_type, spectral_norm=True)
    torch.manual_seed(0)
    plain, checkpointed = SPARNet(**kwargs), SPARNet(checkpoint_blocks=checkpoint_blocks, **kwargs)
    checkpointed.load_state_dict(plain.state_dict())
    x = torch.rand(2, 3, 64, 64)
    results = []
    for net in (plain, checkpointed):
        out = net(x)
        out.square().mean().backward()
        results.append((out.detach(), [p.grad for p in net.parameters()], net.state_dict()))
    torch.testing.assert_close(results[0][0], results[1][0], rtol=0, atol=0)
    for a, b in zip(results[0][1], results[1][1]):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    for key, value in results[0][2].items():  # u/v advanced once, BatchNorm statistics updated once
        torch.testing.assert_close(value, results[1][2][key], rtol=0, atol=0)
