import torch
from basicsr.archs import build_network


def test_patch_scores_spectral_norm_and_no_normalisation():
    net = build_network({'type': 'LRPatchDiscriminator', 'num_feat': 16})
    assert net(torch.rand(2, 3, 16, 16)).shape == (2, 1, 4, 4)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 5 and all(hasattr(c, 'weight_orig') for c in convs)
    assert not any(isinstance(m, (torch.nn.BatchNorm2d, torch.nn.InstanceNorm2d)) for m in net.modules())
