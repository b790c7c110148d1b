"""SFMNet's and DIC's training steps are their authors' losses (main_two.py; SRLandmarkSolver.train_step)."""
import copy

import pytest
import torch
from basicsr.models import build_model

from mrr_plugin.models.dic_model import DICModel
from mrr_plugin.models.sfmnet_model import SFMNetModel
from tests.helpers.authors_reference import authors_code_module

TOY = {'SFMNet': {'type': 'SFMNet', 'num_features': 16, 'num_blocks': 1},
       'DIC': {'type': 'DIC', 'num_features': 8, 'num_groups': 2, 'num_steps': 3, 'hg_num_feature': 16,
               'num_fusion_block': 1}}


def make_opt(tmp_path, model_type, network, **train):
    return {
        'name': 'unit', 'model_type': model_type, 'num_gpu': 0, 'is_train': True, 'dist': False, 'scale': 8,
        'network_g': copy.deepcopy(network),
        'path': {'pretrain_network_g': None, 'models': str(tmp_path), 'training_states': str(tmp_path)},
        'train': {'ema_decay': 0, 'optim_g': {'type': 'Adam', 'lr': 1e-3},
                  'scheduler': {'type': 'MultiStepLR', 'milestones': [10], 'gamma': 0.5},
                  'pixel_opt': {'type': 'L1Loss', 'loss_weight': 1.0}, **train},
        'val': {'tb_samples': 2},
    }


def test_sfmnet_step_is_the_authors_loss(tmp_path):
    model = build_model(make_opt(tmp_path, 'SFMNetModel', TOY['SFMNet'],
                                 fourier_opt={'type': 'FourierLoss', 'amplitude_weight': 0.01, 'phase_weight': 0.01}))
    assert isinstance(model, SFMNetModel)
    torch.manual_seed(0)
    lr, hr = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 128, 128)
    with torch.no_grad():
        out, fre = model.net_g(lr, all_outputs=True)
        expected = authors_code_module().sfmnet_loss({'img_out': out, 'img_fre': fre}, hr)  # main_two.py's loss
    model.feed_data({'lq': lr, 'gt': hr})
    model.optimize_parameters(1)
    log = model.get_current_log()
    assert set(log) >= {'l_pix', 'l_pix_fre', 'l_fft_amp', 'l_fft_pha'}
    total = log['l_pix'] + log['l_pix_fre'] + log['l_fft_amp'] + log['l_fft_pha']
    assert total == pytest.approx(expected.item(), rel=1e-5)
    assert model.output.shape == (2, 3, 128, 128)


def dic_batch(seed=0, keypoints=68):
    generator = torch.Generator().manual_seed(seed)
    return {'lq': torch.rand(2, 3, 16, 16, generator=generator), 'gt': torch.rand(2, 3, 128, 128, generator=generator),
            'heatmap': torch.rand(2, keypoints, 32, 32, generator=generator)}


def test_dic_step_sums_every_steps_losses_and_freezes_the_hourglass_first(tmp_path):
    model = build_model(make_opt(tmp_path, 'DICModel', TOY['DIC'], hourglass_frozen_iters=2,
                                 heatmap_opt={'type': 'MSELoss', 'loss_weight': 0.1}))
    assert isinstance(model, DICModel)
    batch = dic_batch()
    with torch.no_grad():
        faces, heatmaps = model.net_g(batch['lq'], all_outputs=True)
    expected_pix = sum(torch.nn.L1Loss()(face, batch['gt']) for face in faces)
    expected_align = 0.1 * sum(torch.nn.MSELoss()(heatmap, batch['heatmap']) for heatmap in heatmaps)
    hourglass = {k: v.clone() for k, v in model.net_g.HG.state_dict().items()}
    sr_branch = model.net_g.conv_in[0].weight.clone()
    for iteration in (1, 2):
        model.feed_data(batch)
        model.optimize_parameters(iteration)
        if iteration == 1:
            log = model.get_current_log()
            assert log['l_pix'] == pytest.approx(expected_pix.item(), rel=1e-5)
            assert log['l_align'] == pytest.approx(expected_align.item(), rel=1e-5)
    assert all(torch.equal(v, hourglass[k]) for k, v in model.net_g.HG.state_dict().items())  # frozen for 2
    assert not torch.equal(model.net_g.conv_in[0].weight, sr_branch)  # the SR branch trained
    model.feed_data(batch)
    model.optimize_parameters(3)
    assert any(not torch.equal(v, hourglass[k]) for k, v in model.net_g.HG.state_dict().items())  # released


def test_dic_hourglass_starts_from_its_pretrained_weights(tmp_path):
    source = build_model(make_opt(tmp_path, 'DICModel', TOY['DIC']))
    torch.save({f'module.{k}': v for k, v in source.net_g.HG.state_dict().items()}, tmp_path / 'FB_HG.pth')
    opt = make_opt(tmp_path, 'DICModel', TOY['DIC'])
    opt['path']['pretrain_network_hg'] = str(tmp_path / 'FB_HG.pth')
    torch.manual_seed(123)
    model = build_model(opt)
    for key, value in source.net_g.HG.state_dict().items():
        assert torch.equal(model.net_g.HG.state_dict()[key], value)


def test_dic_heatmap_loss_without_landmarks_is_one_sentence(tmp_path):
    model = build_model(make_opt(tmp_path, 'DICModel', TOY['DIC'], heatmap_opt={'type': 'MSELoss'}))
    model.feed_data({'lq': torch.rand(1, 3, 16, 16), 'gt': torch.rand(1, 3, 128, 128)})
    with pytest.raises(ValueError, match='FaceLandmarkDataset'):
        model.optimize_parameters(1)


def dicgan_opt(tmp_path, feature_weights):
    opt = make_opt(tmp_path, 'DICGANModel', TOY['DIC'], hourglass_frozen_iters=100, pixel_steps='last',
                   heatmap_opt={'type': 'MSELoss', 'loss_weight': 0.1},
                   feature_opt={'type': 'LightCNNFeatureLoss', 'weights_path': feature_weights, 'loss_weight': 0.1},
                   gan_opt={'type': 'GANLoss', 'gan_type': 'vanilla', 'loss_weight': 0.005},
                   optim_d={'type': 'Adam', 'lr': 1e-3})
    opt['network_d'] = {'type': 'LightCNNDiscriminator'}
    return opt


@pytest.fixture
def lightcnn_feature_weights(tmp_path):
    """A Light CNN feature extractor state dict under their file name, as DataParallel saved it."""
    from mrr_plugin.archs.lightcnn_arch import LightCNNFeatures
    torch.manual_seed(5)
    path = tmp_path / 'LightCNN_feature.pth'
    torch.save({f'module.{k}': v for k, v in LightCNNFeatures().state_dict().items()}, path)
    return str(path)


def test_dicgan_step_is_their_solver(tmp_path, lightcnn_feature_weights):
    """SRLandmarkGANSolver.train_step, written out: pixel L1 of the last face once per step, heatmaps of every
    step, identity features and vanilla GAN of the last face; D: BCE(D(HR), 1) + BCE(D(SR), 0)."""
    from mrr_plugin.models.dic_model import DICGANModel
    model = build_model(dicgan_opt(tmp_path, lightcnn_feature_weights))
    assert isinstance(model, DICGANModel)
    batch = dic_batch(seed=3)
    with torch.no_grad():
        faces, heatmaps = model.net_g(batch['lq'], all_outputs=True)
        features = model.cri_feature.extractor
        bce = torch.nn.BCEWithLogitsLoss()
        score = model.net_d(faces[-1])
        expected = {
            'l_g_pix': len(faces) * torch.nn.L1Loss()(faces[-1], batch['gt']),
            'l_g_align': 0.1 * sum(torch.nn.MSELoss()(h, batch['heatmap']) for h in heatmaps),
            'l_g_feature': 0.1 * torch.nn.L1Loss()(features(faces[-1]), features(batch['gt'])),
            'l_g_gan': 0.005 * bce(score, torch.ones_like(score)),
        }
    hourglass = {k: v.clone() for k, v in model.net_g.HG.state_dict().items()}
    discriminator = {k: v.clone() for k, v in model.net_d.state_dict().items()}
    model.feed_data(batch)
    model.optimize_parameters(1)
    log = model.get_current_log()
    for key, value in expected.items():
        assert log[key] == pytest.approx(value.item(), rel=1e-4), key
    assert log['l_d'] > 0 and {'out_d_real', 'out_d_fake'} <= set(log)
    assert all(torch.equal(v, hourglass[k]) for k, v in model.net_g.HG.state_dict().items())
    assert any(not torch.equal(v, discriminator[k]) for k, v in model.net_d.state_dict().items())
    assert all(not p.requires_grad for p in model.cri_feature.parameters())


def test_dicgan_without_the_light_cnn_weights_is_one_sentence(tmp_path):
    from mrr_plugin.pipelines.option_values import path_problems
    opt = dicgan_opt(tmp_path, str(tmp_path / 'missing' / 'LightCNN_feature.pth'))
    problems = [p for p in path_problems(opt, True, 'none') if 'LightCNN' in p]
    assert len(problems) == 1 and 'LightCNN_feature.pth: put it at' in problems[0]
    assert 'nothing is downloaded' in problems[0]
