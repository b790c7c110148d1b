import pytest
import torch
from torch import nn
from torch.nn import functional as F

from mrr_plugin.archs.face_sr_util import ConvLayer, apply_spectral_norm
from mrr_plugin.archs.fast_layers import InstanceNorm2d, NearestUpConv2d


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


@pytest.mark.slow
def test_nearest_up_conv_compiles():
    torch.manual_seed(0)
    conv = NearestUpConv2d(4, 3)
    x = torch.randn(2, 4, 6, 6, requires_grad=True)
    expected = value_and_grads(conv, [x])
    compiled = torch.compile(conv, fullgraph=True)  # no graph break
    got = value_and_grads(compiled, [x])
    for a, b in zip(got, expected):
        assert relative_difference(a, b) < 1e-5
