import copy

import pytest
import torch
from basicsr.models import build_model
from torch.nn import functional as F

from mrr_plugin.models.degradation_gan_model import DegradationGANModel

ADAM = {'type': 'Adam', 'lr': 1e-4, 'betas': [0.0, 0.9]}


def make_opt(tmp_path, stages='joint', with_d_hr=True):
    opt = {
        'name': 'unit', 'model_type': 'DegradationGANModel', 'num_gpu': 0, 'is_train': True, 'dist': False,
        'scale': 8,
        'network_h2l': {'type': 'HighToLowGenerator', 'hr_size': 128, 'scale': 8, 'num_feat': 8, 'num_units': 1},
        'network_l2h': {'type': 'MRRNet', 'min_ch': 8, 'max_ch': 16, 'res_depth': 1},
        'network_d_lr': {'type': 'LRPatchDiscriminator', 'num_feat': 8},
        'path': {'models': str(tmp_path), 'training_states': str(tmp_path)},
        'train': {'stages': stages, 'optim_h2l': ADAM, 'optim_d_lr': ADAM, 'optim_l2h': ADAM, 'optim_d_hr': ADAM,
                  'scheduler': {'type': 'MultiStepLR', 'milestones': [100], 'gamma': 0.5},
                  'h2l_pixel_opt': {'type': 'MSELoss', 'loss_weight': 1.0},
                  'h2l_gan_opt': {'type': 'GANLoss', 'gan_type': 'hinge', 'loss_weight': 0.05},
                  'l2h_pixel_opt': {'type': 'MSELoss', 'loss_weight': 1.0},
                  'l2h_gan_opt': {'type': 'GANLoss', 'gan_type': 'hinge', 'loss_weight': 0.05}},
        'val': {'noise_seed': 0},
    }
    if with_d_hr:
        opt['network_d_hr'] = {'type': 'MRRPatchDiscriminator', 'num_feat': 8}
    return opt


def batch():
    torch.manual_seed(0)
    return {'hr': torch.rand(2, 3, 128, 128), 'real_lr': torch.rand(2, 3, 16, 16)}


def snapshot(net):
    return [p.detach().clone() for p in net.parameters()]


def moved(before, net):
    return any(not torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_joint_step_follows_the_losses_and_updates_every_network(tmp_path):
    model = build_model(make_opt(tmp_path))
    assert isinstance(model, DegradationGANModel) and model.net_g is model.net_l2h
    data = batch()
    model.feed_data(data)
    h2l, d_lr = copy.deepcopy(model.net_h2l), copy.deepcopy(model.net_d_lr)
    before = {name: snapshot(getattr(model, f'net_{name}')) for name in ('h2l', 'l2h', 'd_lr', 'd_hr')}
    torch.manual_seed(5)
    model.optimize_parameters(1)
    log = model.get_current_log()
    assert all(moved(before[name], getattr(model, f'net_{name}')) for name in before)

    torch.manual_seed(5)  # the same z as inside the step
    fake_lr = h2l(data['hr'])
    target = F.avg_pool2d(data['hr'], 8)
    assert log['l_h2l_pix'] == pytest.approx(F.mse_loss(fake_lr, target).item(), rel=1e-5)
    assert log['l_h2l_gan'] == pytest.approx(-0.05 * d_lr(fake_lr).mean().item(), rel=1e-3, abs=1e-7)
    torch.testing.assert_close(model.fake_lr, fake_lr.detach())
    assert {'l_l2h_pix', 'l_l2h_gan', 'l_d_lr', 'l_d_hr', 'out_d_lr_real', 'lr'} <= set(log)


def test_l2h_stage_keeps_h2l_fixed_and_needs_no_d_hr(tmp_path):
    model = build_model(make_opt(tmp_path, stages='l2h', with_d_hr=False))
    h2l_before, l2h_before = snapshot(model.net_h2l), snapshot(model.net_l2h)
    model.feed_data(batch())
    model.optimize_parameters(1)
    assert not moved(h2l_before, model.net_h2l) and moved(l2h_before, model.net_l2h)
    assert set(model.get_current_log()) == {'l_l2h_pix', 'lr'}
    assert len(model.optimizers) == 1


def test_validation_degrades_with_fixed_noise_and_restores(tmp_path):
    model = build_model(make_opt(tmp_path, stages='h2l'))
    model.feed_data(batch())
    model.test()
    first = model.lq.clone()
    assert first.shape == (2, 3, 16, 16) and model.output.shape == (2, 3, 128, 128)
    model.feed_data(batch())
    model.test()
    torch.testing.assert_close(model.lq, first)
    assert model.net_h2l.training  # degrade() restores the mode


def test_bad_stage_and_missing_losses(tmp_path):
    opt = make_opt(tmp_path)
    opt['train']['stages'] = 'both'
    with pytest.raises(ValueError, match='stages'):
        build_model(opt)
    opt = make_opt(tmp_path)
    del opt['train']['h2l_gan_opt']
    with pytest.raises(ValueError, match='h2l_gan_opt'):
        build_model(opt)


@pytest.mark.slow
def test_compile_option_compiles_both_generators_and_trains_like_eager(tmp_path):
    import torch._inductor.config as inductor_config
    models = []
    for compile_ in (False, True):
        opt = make_opt(tmp_path)
        opt['train']['compile'] = compile_
        torch.manual_seed(0)
        models.append(build_model(opt))
    eager, compiled = models
    assert all(compiled.get_bare_model(net)._compiled_call_impl is not None
               for net in (compiled.net_h2l, compiled.net_l2h))
    assert eager.get_bare_model(eager.net_l2h)._compiled_call_impl is None
    logs = []
    for model in models:
        model.feed_data(batch())
        torch.manual_seed(5)
        # fallback_random: the same noise z as eager; simdlen 0: scalar C++ kernels, whose code generation takes
        # half the time of inductor's vectorised ones (torch's to test; ours is the option and the step)
        with inductor_config.patch(fallback_random=True, **{'cpp.simdlen': 0}):
            model.optimize_parameters(1)
        logs.append(model.get_current_log())
    for key in ('l_h2l_pix', 'l_h2l_gan', 'l_l2h_pix', 'l_l2h_gan', 'l_d_lr', 'l_d_hr'):
        assert logs[1][key] == pytest.approx(logs[0][key], rel=1e-4, abs=1e-6), key
