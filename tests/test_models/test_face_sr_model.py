import torch
from basicsr.models import build_model

from mrr_plugin.models.face_sr_model import FaceSRModel


def make_opt(tmp_path, norm_type='in', ema_decay=0):
    return {
        'name': 'unit', 'model_type': 'FaceSRModel', 'num_gpu': 0, 'is_train': True, 'dist': False, 'scale': 8,
        'network_g': {'type': 'MRRNet', 'min_ch': 8, 'max_ch': 16, 'res_depth': 1, 'norm_type': norm_type},
        'path': {'pretrain_network_g': None, 'models': str(tmp_path), 'training_states': str(tmp_path)},
        'train': {'ema_decay': ema_decay, 'optim_g': {'type': 'Adam', 'lr': 2e-4},
                  'scheduler': {'type': 'MultiStepLR', 'milestones': [10], 'gamma': 0.5},
                  'pixel_opt': {'type': 'L1Loss', 'loss_weight': 1.0}},
        'val': {'tb_samples': 2},
    }


def test_built_through_basicsr_and_logs_learning_rate(tmp_path):
    model = build_model(make_opt(tmp_path))
    assert isinstance(model, FaceSRModel)
    model.feed_data({'lq': torch.rand(2, 3, 16, 16), 'gt': torch.rand(2, 3, 128, 128)})
    model.optimize_parameters(1)
    log = model.get_current_log()
    assert log['lr'] == 2e-4 and log['l_pix'] > 0


def test_ema_follows_batchnorm_statistics(tmp_path):
    model = build_model(make_opt(tmp_path, norm_type='bn', ema_decay=0.999))
    for it in range(3):
        model.feed_data({'lq': torch.rand(2, 3, 16, 16) * 2 + 1, 'gt': torch.rand(2, 3, 128, 128)})
        model.optimize_parameters(it + 1)
    live = dict(model.net_g.named_buffers())
    for name, buffer in model.net_g_ema.named_buffers():
        torch.testing.assert_close(buffer, live[name])
    mean = model.net_g_ema.encoder[1].preact_func[0].norm.running_mean
    assert mean.abs().sum() > 0  # moved away from the initial zeros


def test_cpu_network_is_wrapped_for_ddp_without_cuda_device_ids(monkeypatch):
    """BasicSR passes the current CUDA device to DistributedDataParallel, which fails for a CPU network."""
    import torch.distributed as dist
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', '29517')
    dist.init_process_group('gloo', rank=0, world_size=1)
    try:
        model = FaceSRModel.__new__(FaceSRModel)
        model.opt, model.device = {'dist': True, 'num_gpu': 0}, torch.device('cpu')
        wrapped = model.model_to_device(torch.nn.Linear(2, 2))
        assert isinstance(wrapped, torch.nn.parallel.DistributedDataParallel) and wrapped.device_ids is None
    finally:
        dist.destroy_process_group()


def test_validation_uses_the_bare_network_not_the_ddp_wrapper():
    """Rank 0 validates alone; calling the DDP wrapper there would start a buffer broadcast nobody joins."""
    calls = []
    network = torch.nn.Conv2d(3, 3, 1)
    wrapper = torch.nn.Module()
    wrapper.module = network
    wrapper.forward = lambda x: calls.append('wrapper')
    model = FaceSRModel.__new__(FaceSRModel)
    model.net_g, model.lq, model.opt = wrapper, torch.rand(1, 3, 4, 4), {'is_train': True}
    model.device = torch.device('cpu')
    model.get_bare_model = lambda net: net.module
    model.test()
    assert calls == [] and model.output.shape == (1, 3, 4, 4) and network.training
