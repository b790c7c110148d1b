import copy

import pytest
import torch
from basicsr.models import build_model
from torch.nn import functional as F

from mrr_plugin.models.sparnethd_model import SPARNetHDModel

TINY_G = {'type': 'SPARNet', 'upscale': 1, 'in_size': 128, 'min_ch': 8, 'max_ch': 16, 'min_feat_size': 32,
          'res_depth': 1, 'mid_channels': 8, 'norm_type': 'in', 'spectral_norm': True}


def make_opt(tmp_path, vgg_path):
    train = {
        'ema_decay': 0.999, 'optim_g': {'type': 'Adam', 'lr': 1e-4, 'betas': [0.5, 0.99]},
        'optim_d': {'type': 'Adam', 'lr': 4e-4, 'betas': [0.5, 0.99]},
        'scheduler': {'type': 'MultiStepLR', 'milestones': [100], 'gamma': 1.0},
        'pixel_opt': {'type': 'L1Loss', 'loss_weight': 100.0},
        'perceptual_opt': {'type': 'FacePerceptualLoss', 'vgg_weights_path': vgg_path, 'resize_to': None,
                           'layer_weights': {k: 1.0 for k in ('relu1_2', 'relu2_2', 'relu3_4', 'relu4_4', 'conv5_4')}},
        'gan_opt': {'type': 'GANLoss', 'gan_type': 'hinge', 'loss_weight': 1.0},
        'fm_opt': {'type': 'FeatureMatchingLoss', 'loss_weight': 10.0},
    }
    return {
        'name': 'unit', 'model_type': 'SPARNetHDModel', 'num_gpu': 0, 'is_train': True, 'dist': False, 'scale': 1,
        'network_g': TINY_G,
        'network_d': {'type': 'MultiScalePatchDiscriminator', 'num_feat': 8, 'max_feat': 16},
        'path': {'pretrain_network_g': None, 'models': str(tmp_path), 'training_states': str(tmp_path)},
        'train': train, 'val': {},
    }


def test_losses_follow_the_papers_formulas(tmp_path, random_vgg19_weights):
    model = build_model(make_opt(tmp_path, random_vgg19_weights))
    assert isinstance(model, SPARNetHDModel)
    torch.manual_seed(0)
    lq, gt = torch.rand(2, 3, 128, 128), torch.rand(2, 3, 128, 128)
    model.feed_data({'lq': lq, 'gt': gt})
    net_g, net_d = copy.deepcopy(model.net_g), copy.deepcopy(model.net_d)
    d_before = [p.detach().clone() for p in model.net_d.parameters()]
    model.optimize_parameters(1)
    log = model.get_current_log()

    # expected values from copies of the networks before the step (same power-iteration state)
    sr = net_g(lq)
    fake, real = net_d(sr), net_d(gt)
    assert log['l_g_pix'] == pytest.approx(100 * F.l1_loss(sr, gt).item(), rel=1e-4)
    assert log['l_g_gan'] == pytest.approx(sum(-s.mean().item() for s, _ in fake) / 3, rel=1e-4, abs=1e-6)
    fm = sum(sum(F.l1_loss(a, b).item() for a, b in zip(f, r)) for (_, f), (_, r) in zip(fake, real)) / 3
    assert log['l_g_fm'] == pytest.approx(10 * fm, rel=1e-4)
    assert log['l_g_percep'] > 0
    real_d, fake_d = net_d(gt), net_d(sr.detach())  # the D step's forwards, in the model's order
    l_d = sum(0.5 * (F.relu(1 - r).mean() + F.relu(1 + f).mean()) for (r, _), (f, _) in zip(real_d, fake_d)) / 3
    assert log['l_d'] == pytest.approx(l_d.item(), rel=1e-4)
    torch.testing.assert_close(model.output, sr.detach())  # the copies computed what the step computed
    assert any(not torch.equal(a, b) for a, b in zip(d_before, model.net_d.parameters()))
    assert model.net_g_ema is not None
