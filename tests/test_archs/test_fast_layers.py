import pytest
import torch
from torch import nn
from torch.nn import functional as F

from mrr_plugin.archs.face_sr_skeleton import ConvLayer
from mrr_plugin.archs.fast_layers import FewOutputConv2d, InstanceNorm2d, NearestUpConv2d
from mrr_plugin.archs.settled_spectral_norm import apply_spectral_norm


def relative_difference(ours, reference):
    return ((ours - reference).abs().max() / reference.abs().max()).item()


def value_and_grads(function, inputs):
    """function(*inputs) and the gradients of a fixed random projection of it w.r.t. every input."""
    inputs = [t.detach().clone().requires_grad_(True) for t in inputs]
    out = function(*inputs)
    torch.manual_seed(1)
    (out * torch.randn_like(out)).sum().backward()
    return [out.detach()] + [t.grad for t in inputs]


@pytest.mark.parametrize('affine', [True, False])
def test_instance_norm_as_group_norm_is_instance_norm(affine):
    torch.manual_seed(0)
    ours, theirs = InstanceNorm2d(6, affine=affine), nn.InstanceNorm2d(6, affine=affine)
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    if affine:
        nn.init.normal_(ours.weight)
        nn.init.normal_(ours.bias)
        theirs.load_state_dict(ours.state_dict())
    x = torch.randn(3, 6, 9, 7) * 4 + 2
    for got, expected in zip(value_and_grads(ours, [x]), value_and_grads(theirs, [x])):
        assert relative_difference(got, expected) < 1e-5
    for got, expected in zip(ours.parameters(), theirs.parameters()):
        assert relative_difference(got.grad, expected.grad) < 1e-5


@pytest.mark.parametrize('mean', [0.0, 30.0])
def test_instance_norm_is_accurate_on_channels_last_planes_with_a_large_mean(mean):
    torch.manual_seed(0)
    norm = InstanceNorm2d(32, affine=True)
    x = torch.randn(2, 32, 64, 64) + mean * torch.randn(1, 32, 1, 1)
    exact = nn.functional.instance_norm(x.double(), weight=norm.weight.double(), bias=norm.bias.double())
    for memory_format in (torch.contiguous_format, torch.channels_last):
        got = norm(x.contiguous(memory_format=memory_format))
        assert (got - exact).abs().max() < 1e-4  # torch 2.14's channels-last group norm alone: 4e-2 at mean 30


@pytest.mark.parametrize('bias', [True, False])
@pytest.mark.parametrize('memory_format', [torch.contiguous_format, torch.channels_last])
def test_nearest_up_conv_is_upsample_pad_conv(bias, memory_format):
    """conv3x3(reflection_pad1(nearest_up_x2(x))) with the same weights: output and gradients (input, weight, bias)
    agree to float rounding, on a non-square input, and the output keeps the input's memory format."""
    torch.manual_seed(0)
    conv = NearestUpConv2d(5, 7, bias=bias)
    x = torch.randn(2, 5, 6, 9).contiguous(memory_format=memory_format)
    params = [conv.weight] + ([conv.bias] if bias else [])

    def reference(x, weight, bias=None):
        return F.conv2d(F.pad(F.interpolate(x, scale_factor=2, mode='nearest'), (1, 1, 1, 1), mode='reflect'),
                        weight, bias)

    def ours(x, weight, bias=None):
        return conv._conv_forward(x, weight, bias)

    expected = value_and_grads(reference, [x, *params])
    got = value_and_grads(ours, [x, *params])
    assert got[0].shape == (2, 7, 12, 18)
    for a, b in zip(got, expected):
        assert relative_difference(a, b) < 1e-5
    assert conv(x).is_contiguous(memory_format=memory_format)


def test_up_conv_layer_keeps_its_parameters_and_works_with_spectral_norm():
    torch.manual_seed(0)
    layer = ConvLayer(4, 6, 3, 'up')
    assert isinstance(layer.conv2d, NearestUpConv2d)
    assert set(layer.state_dict()) == {'conv2d.weight', 'conv2d.bias'}
    x = torch.randn(1, 4, 5, 5)
    plain = nn.Conv2d(4, 6, 3)
    plain.load_state_dict(layer.conv2d.state_dict())
    expected = plain(F.pad(F.interpolate(x, scale_factor=2), (1, 1, 1, 1), mode='reflect'))
    torch.testing.assert_close(layer(x), expected)
    apply_spectral_norm(layer)  # the weight is recomputed by spectral norm's hook before every call
    with torch.no_grad():
        normalised = layer.conv2d.weight.clone()
        plain.weight.copy_(normalised)
        torch.testing.assert_close(layer.eval()(x), plain(F.pad(F.interpolate(x, scale_factor=2), (1, 1, 1, 1),
                                                                mode='reflect')))


@pytest.mark.parametrize('kernel_size, out_channels', [(3, 1), (3, 3), (5, 2)])
@pytest.mark.parametrize('bias', [True, False])
@pytest.mark.parametrize('memory_format', [torch.contiguous_format, torch.channels_last])
def test_few_output_conv_is_conv(kernel_size, out_channels, bias, memory_format):
    """Output and gradients (input, weight, bias) of F.conv2d with the same weights, on a non-square input."""
    torch.manual_seed(0)
    conv = FewOutputConv2d(6, out_channels, kernel_size, bias=bias)
    x = torch.randn(2, 6, 9, 12).contiguous(memory_format=memory_format)
    params = [conv.weight] + ([conv.bias] if bias else [])
    expected = value_and_grads(F.conv2d, [x, *params])
    got = value_and_grads(lambda x, weight, bias=None: conv._conv_forward(x, weight, bias), [x, *params])
    assert got[0].shape == (2, out_channels, 10 - kernel_size, 13 - kernel_size)
    for a, b in zip(got, expected):
        assert relative_difference(a, b) < 1e-5


def test_few_output_conv_under_bf16_autocast_sums_in_float32():
    torch.manual_seed(0)
    conv = FewOutputConv2d(32, 1, 3)
    x = torch.randn(2, 32, 20, 20)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        ours, theirs = conv(x), F.conv2d(x, conv.weight, conv.bias)
    assert ours.dtype == theirs.dtype == torch.bfloat16
    exact = F.conv2d(x, conv.weight, conv.bias)
    assert relative_difference(ours.float(), exact) <= 2 * relative_difference(theirs.float(), exact) + 1e-3


def test_conv_layer_uses_the_few_output_conv_for_maps_and_rgb_only():
    assert isinstance(ConvLayer(32, 1, 3).conv2d, FewOutputConv2d)  # attention map
    assert isinstance(ConvLayer(32, 3, 3).conv2d, FewOutputConv2d)  # RGB output
    assert type(ConvLayer(32, 4, 3).conv2d) is nn.Conv2d
    assert type(ConvLayer(32, 1, 3, 'down').conv2d) is nn.Conv2d
    layer = ConvLayer(8, 1, 3)
    apply_spectral_norm(layer)
    assert set(layer.state_dict()) == {'conv2d.bias', 'conv2d.weight_orig', 'conv2d.weight_u', 'conv2d.weight_v'}
    x = torch.randn(1, 8, 7, 7)
    expected = F.conv2d(F.pad(x, (1, 1, 1, 1), mode='reflect'), layer.conv2d.weight, layer.conv2d.bias)
    torch.testing.assert_close(layer.eval()(x), expected)


@pytest.mark.slow
@pytest.mark.parametrize('conv', [NearestUpConv2d(4, 3), FewOutputConv2d(4, 1, 3)], ids=['nearest_up', 'few_output'])
def test_fast_convs_compile(conv):
    torch.manual_seed(0)
    x = torch.randn(2, 4, 6, 6, requires_grad=True)
    expected = value_and_grads(conv, [x])
    compiled = torch.compile(conv, fullgraph=True)  # no graph break (FewOutputConv2d: a plain conv when compiled)
    got = value_and_grads(compiled, [x])
    for a, b in zip(got, expected):
        assert relative_difference(a, b) < 1e-5
