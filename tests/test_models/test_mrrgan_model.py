import torch
from basicsr.models import build_model

from mrr_plugin.models.mrrgan_model import MRRGANModel


def make_opt(tmp_path, vgg_path, **train_extra):
    train = {
        'ema_decay': 0, 'optim_g': {'type': 'Adam', 'lr': 1e-4, 'betas': [0.9, 0.99]},
        'optim_d': {'type': 'Adam', 'lr': 4e-4, 'betas': [0.9, 0.99]},
        'scheduler': {'type': 'MultiStepLR', 'milestones': [100], 'gamma': 0.7},
        'pixel_opt': {'type': 'L1Loss', 'loss_weight': 1.0},
        'perceptual_opt': {'type': 'FacePerceptualLoss', 'vgg_weights_path': vgg_path, 'perceptual_weight': 0.01},
        'gan_opt': {'type': 'RaHingeGANLoss', 'loss_weight': 0.01},
    }
    train.update(train_extra)
    return {
        'name': 'unit', 'model_type': 'MRRGANModel', 'num_gpu': 0, 'is_train': True, 'dist': False, 'scale': 8,
        'network_g': {'type': 'MRRNet', 'min_ch': 8, 'max_ch': 16, 'res_depth': 1},
        'network_d': {'type': 'MRRPatchDiscriminator', 'num_feat': 8},
        'path': {'pretrain_network_g': None, 'models': str(tmp_path), 'training_states': str(tmp_path)},
        'train': train, 'val': {},
    }


def snapshot(net):
    return [p.detach().clone() for p in net.parameters()]


def changed(before, net):
    return any(not torch.equal(a, b) for a, b in zip(before, net.parameters()))


def feed(model):
    torch.manual_seed(0)
    model.feed_data({'lq': torch.rand(2, 3, 16, 16), 'gt': torch.rand(2, 3, 128, 128)})


def test_one_iteration_updates_g_and_d_and_logs_every_term(tmp_path, random_vgg19_weights):
    model = build_model(make_opt(tmp_path, random_vgg19_weights))
    assert isinstance(model, MRRGANModel)
    g_before, d_before = snapshot(model.net_g), snapshot(model.net_d)
    feed(model)
    model.optimize_parameters(1)
    assert changed(g_before, model.net_g) and changed(d_before, model.net_d)
    log = model.get_current_log()
    assert {'l_g_pix', 'l_g_percep', 'l_g_gan', 'l_d', 'out_d_real', 'out_d_fake', 'lr'} <= set(log)
    assert log['l_g_gan'] > 0 and log['l_d'] > 0 and log['lr'] == 1e-4


def test_discriminator_warm_up_leaves_generator_alone(tmp_path, random_vgg19_weights):
    model = build_model(make_opt(tmp_path, random_vgg19_weights, net_d_init_iters=2))
    g_before, d_before = snapshot(model.net_g), snapshot(model.net_d)
    feed(model)
    model.optimize_parameters(1)
    assert not changed(g_before, model.net_g) and changed(d_before, model.net_d)
    assert 'l_g_gan' not in model.get_current_log()
