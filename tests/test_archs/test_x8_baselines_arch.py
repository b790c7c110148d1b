import os

import pytest
import torch
import yaml
from basicsr.archs import build_network
from basicsr.archs.rrdbnet_arch import RRDBNet
from basicsr.archs.srresnet_arch import MSRResNet

from mrr_plugin.archs.x8_baselines_arch import MSRResNetX8, RRDBNetX8
from tests.conftest import PROJECT_ROOT


@pytest.mark.parametrize('ours, theirs, new_layer', [
    (lambda: MSRResNetX8(num_feat=16, num_block=2), lambda: MSRResNet(num_feat=16, num_block=2, upscale=4), 'upconv3'),
    (lambda: RRDBNetX8(num_feat=16, num_block=1, num_grow_ch=8),
     lambda: RRDBNet(3, 3, scale=4, num_feat=16, num_block=1, num_grow_ch=8), 'conv_up3'),
])
def test_x8_output_and_basicsr_x4_weight_compatibility(ours, theirs, new_layer):
    net = ours()
    with torch.no_grad():
        assert net(torch.rand(2, 3, 16, 16)).shape == (2, 3, 128, 128)
    result = net.load_state_dict(theirs().state_dict(), strict=False)
    assert sorted(result.missing_keys) == [f'{new_layer}.bias', f'{new_layer}.weight']
    assert not result.unexpected_keys


def test_x8_variants_refuse_other_scales():
    with pytest.raises(ValueError, match='upscale 8'):
        MSRResNetX8(upscale=4)
    with pytest.raises(ValueError, match='upscale 8'):
        RRDBNetX8(scale=4)


@pytest.mark.parametrize('method', ['EDSR', 'RCAN', 'SwinIR', 'SRResNet', 'RRDB'])
def test_baseline_option_files_build_x8_networks(method):
    with open(os.path.join(PROJECT_ROOT, 'options', 'train', method, f'train_{method}_x8_CelebA.yml')) as f:
        network_opt = yaml.safe_load(f)['network_g']
    net = build_network(network_opt).eval()
    with torch.no_grad():
        assert net(torch.rand(1, 3, 16, 16)).shape == (1, 3, 128, 128)
