import pytest
import torch
from basicsr.archs import build_network
from basicsr.utils.registry import ARCH_REGISTRY

from mrr_plugin.archs.arch_util import pil_bicubic_resize
from mrr_plugin.archs.mrrnet_arch import MRRNet, MRRSpatialAttention
from tests.conftest import assert_computes_reference, load_reference, reference_keys, state_shapes


def count_parameters(net):
    return sum(p.numel() for p in net.parameters())


def test_registered_and_built_by_basicsr():
    assert ARCH_REGISTRY.get('MRRNet') is MRRNet
    net = build_network({'type': 'MRRNet', 'upscale': 8})
    assert isinstance(net, MRRNet)


def test_default_shape_and_parameter_count():
    net = MRRNet()
    assert count_parameters(net) == 9_130_771
    with torch.no_grad():
        out = net(torch.rand(2, 3, 16, 16))
    assert out.shape == (2, 3, 128, 128)


def test_upscale_one_takes_a_preupsampled_face():
    with torch.no_grad():
        assert MRRNet(upscale=1)(torch.rand(1, 3, 128, 128)).shape == (1, 3, 128, 128)


def test_attention_maps_are_in_unit_interval_and_block_follows_residual_equation():
    torch.manual_seed(0)
    net = MRRNet().eval()
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        net(x)
    maps = net.attention_maps()
    assert len(maps) == 3 + 10 + 3
    for attention in maps.values():
        assert attention.shape[1] == 1
        assert 0.0 <= attention.min() and attention.max() <= 1.0
    # out = shortcut(x) + a * f  for a body block, with a the stored map
    block = net.res_layers[0]
    features = torch.randn(1, 128, 16, 16)
    with torch.no_grad():
        out = block(features)
        f = block.residual(features)
    a = block.att_func.last_map
    torch.testing.assert_close(out, features + a * f)
    assert a.std() > 0  # a real, input-dependent map, not a constant


@pytest.mark.parametrize('kernels', [(1, 3), (5, 7), (1, 7), (1, 3, 5, 7)])
def test_kernel_set_ablation(kernels):
    net = MRRNet(kernel_sizes=kernels)
    attention = net.res_layers[0].att_func
    assert isinstance(attention, MRRSpatialAttention)
    branches = [name for name, _ in attention.inception.named_children() if name.startswith('feature_extract_')]
    assert branches == [f'feature_extract_{k}' for k in kernels]
    conv = getattr(attention.inception, f'feature_extract_{kernels[-1]}')[-1]
    assert conv.out_channels == 128 // len(kernels) and conv.kernel_size == (kernels[-1], kernels[-1])
    with torch.no_grad():
        assert net(torch.rand(1, 3, 16, 16)).shape == (1, 3, 128, 128)


def test_without_spatial_attention_block_is_shortcut_plus_residual():
    net = MRRNet(attention='none').eval()
    assert not net.attention_maps()
    block = net.res_layers[0]
    x = torch.randn(1, 128, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(block(x), x + block.residual(x))
    assert count_parameters(net) < count_parameters(MRRNet())


def test_mrr_cbam_variant():
    net = MRRNet(attention='cbam').eval()
    with torch.no_grad():
        assert net(torch.rand(1, 3, 16, 16)).shape == (1, 3, 128, 128)
    maps = net.attention_maps()
    assert len(maps) == 16 and all(0 <= m.min() and m.max() <= 1 for m in maps.values())


def test_bad_options_are_rejected():
    with pytest.raises(ValueError, match='attention'):
        MRRNet(attention='cbam-typo')
    with pytest.raises(ValueError, match='odd'):
        MRRNet(kernel_sizes=(2, 4))
    with pytest.raises(ValueError, match='norm_type'):
        MRRNet(norm_type='batch')


def test_state_dict_keys_match_the_authors():
    assert state_shapes(MRRNet()) == reference_keys('mrrnet_g')


def test_computes_the_authors_function():
    assert_computes_reference(MRRNet(upscale=1), 'mrrnet_g')


def test_range_norm_wraps_the_authors_function_for_lr_input():
    """ours(lr in [0,1]) == (ref(2 * bicubic_up(lr) - 1) + 1) / 2 with the authors' weights."""
    ref = load_reference('mrrnet_g')
    authors = MRRNet(upscale=1).eval()
    authors.load_state_dict(ref['state_dict'])
    ours = MRRNet(upscale=8, range_norm=True).eval()
    ours.load_state_dict(ref['state_dict'])
    lr = torch.rand(2, 3, 16, 16).mul(255).round().div(255)
    with torch.no_grad():
        expected = (authors(2 * pil_bicubic_resize(lr, 128, quantize=True) - 1) + 1) / 2
        torch.testing.assert_close(ours(lr), expected)
