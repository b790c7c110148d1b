import math

import pytest
import torch
from basicsr.archs import build_network
from basicsr.utils.registry import ARCH_REGISTRY
from torch.nn import functional as F

from mrr_plugin.archs.mrrnet_arch import MRRNet, MRRSpatialAttention, MultiReceptiveFieldFeatures
from mrr_plugin.archs.pil_resize import pil_bicubic_resize
from tests.conftest import assert_computes_reference, load_reference, reference_keys, state_shapes
from tests.helpers.tolerances import assert_close_up_to_float32_reordering, float32_reordering_atol


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
    a = block.att_func.attention_map()
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
    assert_computes_reference(MRRNet(upscale=1, range_norm=False), 'mrrnet_g')  # their [-1, 1] in/out


def test_range_norm_wraps_the_authors_function_for_lr_input():
    """ours(lr in [0,1]) == (ref(2 * bicubic_up(lr) - 1) + 1) / 2 with the authors' weights."""
    ref = load_reference('mrrnet_g')
    authors = MRRNet(upscale=1, range_norm=False).eval()
    authors.load_state_dict(ref['state_dict'])
    ours = MRRNet(upscale=8).eval()  # range_norm: the default
    ours.load_state_dict(ref['state_dict'])
    lr = torch.rand(2, 3, 16, 16).mul(255).round().div(255)
    with torch.no_grad():
        expected = (authors(2 * pil_bicubic_resize(lr, 128, quantize=True) - 1) + 1) / 2
        torch.testing.assert_close(ours(lr), expected)


def branch_by_branch(inception, x):
    """The paper's eq. 2-4 literally: every branch module called on its own, concatenated, ReLU, IN."""
    fused = torch.cat([getattr(inception, f'feature_extract_{k}')(x) for k in inception.kernel_sizes], dim=1)
    return inception.in_norm(F.relu(fused))


@pytest.mark.parametrize('kernels', [(1, 3, 5, 7), (7, 1), (1, 3, 5), (5, )])
def test_narrow_branches_run_in_pairs_with_the_same_function_and_gradients(kernels):
    torch.manual_seed(0)
    inception = MultiReceptiveFieldFeatures(8 * len(kernels), kernels)  # 8 channels per branch: paired
    assert inception.groups == [kernels[i:i + 2] for i in range(0, len(kernels), 2)]
    for conv in inception.modules():
        if isinstance(conv, torch.nn.Conv2d):
            torch.nn.init.normal_(conv.bias)
    x = torch.randn(2, 8 * len(kernels), 12, 12, requires_grad=True)
    ours, reference = inception(x), branch_by_branch(inception, x)
    assert_close_up_to_float32_reordering(inception, ours, reference)
    grad = torch.randn_like(ours)
    ours_grads = torch.autograd.grad(ours, [x, *inception.parameters()], grad)
    reference_grads = torch.autograd.grad(reference, [x, *inception.parameters()], grad)
    for a, b in zip(ours_grads, reference_grads):
        # backward sums over the batch and the plane too: their sizes join the conv's fan-in
        tolerance = float32_reordering_atol(inception, b) * math.sqrt(x.shape[0] * x.shape[-2] * x.shape[-1])
        torch.testing.assert_close(a, b, rtol=0, atol=tolerance)


def test_wide_branches_and_hooked_convs_run_one_by_one():
    assert MultiReceptiveFieldFeatures(64, (1, 3, 5, 7)).groups == [(1, ), (3, ), (5, ), (7, )]  # 16 per branch
    inception = MultiReceptiveFieldFeatures(32, (1, 3, 5, 7))
    convs = [conv for conv in inception.modules() if isinstance(conv, torch.nn.Conv2d)]
    for conv in convs:
        torch.nn.utils.spectral_norm(conv)  # its weight is computed by a pre-hook: the module must be called
    vectors = [conv.weight_u.clone() for conv in convs]
    inception(torch.randn(1, 32, 8, 8))
    assert all(not torch.equal(conv.weight_u, u) for conv, u in zip(convs, vectors))  # every hook ran


@pytest.mark.parametrize('arch', ['MRRNet', 'SPARNet'])
def test_inference_runs_the_full_size_blocks_in_chunks_with_the_same_outputs_and_maps(arch):
    torch.manual_seed(0)
    chunked = build_network({'type': arch}).eval()  # inference_chunk: 2 by default
    whole = build_network({'type': arch, 'inference_chunk': 0}).eval()
    whole.load_state_dict(chunked.state_dict())
    calls = []
    for block in (chunked.encoder[1], chunked.decoder[-1], chunked.res_layers[0]):
        block.register_forward_pre_hook(lambda module, inputs: calls.append((module, inputs[0].shape[0])))
    x = torch.rand(5, 3, 16, 16)
    with torch.no_grad():
        ours, reference = chunked(x), whole(x)
    assert_close_up_to_float32_reordering(whole, ours, reference)  # other batch sizes: other oneDNN kernels
    batches = {}
    for module, size in calls:
        batches.setdefault(module, []).append(size)
    assert list(batches.values()) == [[2, 2, 1], [5], [2, 2, 1]]  # encoder[1], body, decoder[-1]
    ours_maps, reference_maps = chunked.attention_maps(), whole.attention_maps()
    assert ours_maps.keys() == reference_maps.keys()
    for name in ours_maps:
        assert_close_up_to_float32_reordering(whole, ours_maps[name], reference_maps[name])

    calls.clear()
    chunked(x)  # autograd on: one call per block
    with torch.no_grad():
        chunked.train()(x)  # training mode (batch statistics, power iterations): one call per block
    assert [size for _, size in calls] == [5] * 6


def test_branch_pairing_is_a_constructor_option_with_the_same_function():
    """``paired_branches_below: 0`` gives every MRR branch its own conv: same parameters, same outputs."""
    torch.manual_seed(0)
    paired = build_network({'type': 'MRRNet', 'min_ch': 32, 'max_ch': 64, 'res_depth': 1}).eval()
    unpaired = build_network({'type': 'MRRNet', 'min_ch': 32, 'max_ch': 64, 'res_depth': 1,
                              'paired_branches_below': 0}).eval()
    unpaired.load_state_dict(paired.state_dict())
    groups = [m.groups for m in unpaired.modules() if isinstance(m, MultiReceptiveFieldFeatures)]
    assert groups and all(len(group) == 1 for g in groups for group in g)
    assert any(len(group) == 2 for m in paired.modules() if isinstance(m, MultiReceptiveFieldFeatures)
               for group in m.groups)
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        assert_close_up_to_float32_reordering(paired, paired(x), unpaired(x))
