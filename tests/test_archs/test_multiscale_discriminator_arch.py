import pytest
import torch
from basicsr.archs import build_network

from mrr_plugin.archs.multiscale_discriminator_arch import MultiScalePatchDiscriminator


@pytest.mark.parametrize('size, score_sizes', [(512, [30, 14, 6]), (128, [6, 2, 2])])
def test_three_scales_scores_and_features(size, score_sizes):
    net = build_network({'type': 'MultiScalePatchDiscriminator'})
    assert isinstance(net, MultiScalePatchDiscriminator)
    with torch.no_grad():
        results = net(torch.rand(1, 3, size, size))
    assert [score.shape[-1] for score, _ in results] == score_sizes
    for scale, (_, features) in enumerate(results):
        assert [f.shape[1] for f in features] == [64, 128, 256, 512, 512]
        assert features[0].shape[-1] == size // 2**scale


def test_architecture_of_one_scale():
    net = MultiScalePatchDiscriminator(num_scales=1)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.stride[0] for c in convs] == [1, 2, 2, 2, 2, 1]
    assert [c.bias is not None for c in convs] == [True, False, False, False, False, True]  # no bias before IN
    assert convs[-1].padding == (0, 0) and all(hasattr(c, 'weight_orig') for c in convs)
    assert sum(p.numel() for p in net.parameters()) * 3 == sum(
        p.numel() for p in MultiScalePatchDiscriminator().parameters())


def test_coarser_scales_see_the_bicubic_half():  # of the input mapped to [-1, 1] (range_norm, the default)
    net = MultiScalePatchDiscriminator(num_feat=8, max_feat=16, num_scales=2).eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        results = net(x)
        half = torch.nn.functional.interpolate(x * 2 - 1, scale_factor=0.5, mode='bicubic', align_corners=False)
        expected = net.scales[1](half)
    torch.testing.assert_close(results[1][0], expected[0])
