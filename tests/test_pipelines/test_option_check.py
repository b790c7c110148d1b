"""Option files are checked before a run: misspelt keys and type names get one line each with the closest name."""
import copy
import os
import subprocess
import sys

import pytest
import yaml
from basicsr.utils.options import ordered_yaml

from mrr_plugin.pipelines.option_check import check_option_file, option_problems
from mrr_plugin.utils.option_file import OptionError, load_option_file
from tests.conftest import PROJECT_ROOT, python_env

DEMO_OPTIONS = os.path.join(PROJECT_ROOT, 'options', 'train', 'MRRNet', 'train_MRRNet_x8_demo_CPU.yml')


def rename(section, old, new):
    section[new] = section.pop(old)


TYPOS = {
    'network argument': (lambda o: rename(o['network_g'], 'kernel_sizes', 'kernal_sizes'),
                         "unknown option 'network_g.kernal_sizes' for network MRRNet; did you mean 'kernel_sizes'?"),
    'top-level key': (lambda o: rename(o, 'network_g', 'netwrk_g'),
                      "unknown option 'netwrk_g'; did you mean 'network_g'?"),
    'dataset key read with get': (lambda o: rename(o['datasets']['train'], 'use_hflip', 'use_hflp'),
                                  "unknown option 'datasets.train.use_hflp'; did you mean 'use_hflip'?"),
    'required dataset key': (lambda o: rename(o['datasets']['train'], 'dataroot_gt', 'dataroot_GT'),
                             "datasets.train: 'dataroot_gt' is missing (FaceBicubicDataset reads it)."),
    'required train key': (lambda o: rename(o['train'], 'total_iter', 'total_iters'), "'train.total_iter' is missing."),
    'loss argument': (lambda o: rename(o['train']['pixel_opt'], 'loss_weight', 'loss_wieght'),
                      "unknown option 'train.pixel_opt.loss_wieght' for loss L1Loss; did you mean 'loss_weight'?"),
    'loss key': (lambda o: rename(o['train'], 'pixel_opt', 'pixl_opt'),
                 "unknown option 'train.pixl_opt'; did you mean 'pixel_opt'?"),
    'optimizer argument': (lambda o: rename(o['train']['optim_g'], 'betas', 'beta'),
                           "unknown option 'train.optim_g.beta' for optimizer Adam; did you mean 'betas'?"),
    'scheduler argument': (lambda o: rename(o['train']['scheduler'], 'milestones', 'milestone'),
                           "train.scheduler: scheduler MultiStepLR needs 'milestones'."),
    'metric argument': (lambda o: rename(o['val']['metrics']['psnr_dic'], 'crop_border', 'crop_bordr'),
                        "unknown option 'val.metrics.psnr_dic.crop_bordr' for metric calculate_psnr_dic; did you "
                        "mean 'crop_border'?"),
    'dataset type': (lambda o: o['datasets']['train'].update(type='FaceBicubicDatset'),
                     "datasets.train.type: no dataset named 'FaceBicubicDatset' is registered; did you mean "
                     "'FaceBicubicDataset'?"),
    'network type': (lambda o: o['network_g'].update(type='MRRnet'),
                     "network_g.type: no network named 'MRRnet' is registered; did you mean 'MRRNet'?"),
    'model type': (lambda o: o.update(model_type='FaceSRModl'),
                   "model_type: no model named 'FaceSRModl' is registered; did you mean 'FaceSRModel'?"),
    'unknown optimizer': (lambda o: o['train']['optim_g'].update(type='SGD'),
                          "train.optim_g.type: no optimizer named 'SGD' is registered; known: Adam."),
    'dist_params key': (lambda o: rename(o['dist_params'], 'port', 'prot'),
                        "unknown option 'dist_params.prot'; did you mean 'port'?"),
    'nested logger key': (lambda o: rename(o['logger']['wandb'], 'project', 'projcet'),
                          "unknown option 'logger.wandb.projcet'; did you mean 'project'?"),
}


@pytest.mark.parametrize('case', sorted(TYPOS))
def test_each_typo_is_reported_with_the_closest_name(case):
    opt = load_option_file(DEMO_OPTIONS)
    assert option_problems(copy.deepcopy(opt), for_training=True) == []
    mutate, expected = TYPOS[case]
    mutate(opt)
    assert expected in option_problems(opt, for_training=True)


def test_a_key_nothing_reads_is_reported_without_a_guess():
    opt = load_option_file(DEMO_OPTIONS)
    opt['train']['my_note'] = 'x'
    assert option_problems(opt, for_training=True) == ["unknown option 'train.my_note' (nothing reads it)."]


def test_training_needs_a_train_phase_and_train_settings_but_testing_does_not():
    opt = load_option_file(DEMO_OPTIONS)
    del opt['train']
    opt['datasets'] = {'test_1': opt['datasets']['val']}
    assert option_problems(opt, for_training=False) == []
    assert option_problems(opt, for_training=True) == [
        "'train' is missing (the training settings).",
        "datasets.test_1: phase names in a training file are 'train' or 'val[_name]'.",
        "'datasets' has no 'train' phase.",
    ]


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / 'broken.yml'
    path.write_text('name: x\nnetwork_g:\n  type: MRRNet\n   upscale: 8\n')
    with pytest.raises(OptionError, match=r'broken.yml line 4, column 11: not valid YAML'):
        load_option_file(str(path))
    with pytest.raises(OptionError, match='option file .* does not exist'):
        load_option_file(str(tmp_path / 'missing.yml'))


def test_check_option_file_lists_every_problem(tmp_path):
    opt = load_option_file(DEMO_OPTIONS)
    rename(opt['network_g'], 'kernel_sizes', 'kernal_sizes')
    rename(opt['val'], 'val_freq', 'val_frq')
    path = tmp_path / 'typos.yml'
    path.write_text(yaml.dump(opt, Dumper=ordered_yaml()[1]))
    with pytest.raises(OptionError) as error:
        check_option_file(str(path), for_training=True, check_files=False)
    assert '2 problem(s); nothing was started' in str(error.value)
    assert "did you mean 'kernel_sizes'?" in str(error.value) and "did you mean 'val_freq'?" in str(error.value)


def test_force_yml_entries_are_checked_like_the_file(tmp_path):
    with pytest.raises(OptionError, match="unknown option 'train.total_iters'; did you mean 'total_iter'"):
        check_option_file(DEMO_OPTIONS, True, ['train:total_iters=10'], check_files=False)
    opt = check_option_file(DEMO_OPTIONS, True, ['train:total_iter=10', 'num_gpu=0'], check_files=False)
    assert opt['train']['total_iter'] == 10


@pytest.mark.parametrize('entry_point', ['train', 'test'])
def test_entry_points_stop_before_touching_the_experiment(entry_point, tmp_path):
    """A typo exits with status 2 and one message; an existing experiment is neither archived nor overwritten."""
    opt = load_option_file(DEMO_OPTIONS)
    if entry_point == 'test':
        opt['datasets'] = {'test_1': opt['datasets'].pop('val')}
    rename(opt['datasets']['test_1' if entry_point == 'test' else 'train'], 'io_backend', 'io_backnd')
    path = tmp_path / 'typo.yml'
    path.write_text(yaml.dump(opt, Dumper=ordered_yaml()[1]))
    root = tmp_path / 'project'
    old_run = root / ('experiments' if entry_point == 'train' else 'results') / opt['name']
    old_run.mkdir(parents=True)
    (old_run / 'keep.txt').write_text('earlier run')

    result = subprocess.run([sys.executable, '-m', f'mrr_plugin.{entry_point}', '-opt', str(path)],
                            env=python_env(root), capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert 'Traceback' not in result.stderr
    assert "did you mean 'io_backend'?" in result.stderr and 'nothing was started' in result.stderr
    assert sorted(os.listdir(old_run.parent)) == [opt['name']] and (old_run / 'keep.txt').read_text() == 'earlier run'


@pytest.mark.parametrize('entry_point', ['train', 'test'])
def test_python_tags_are_refused_and_never_run(entry_point, tmp_path):
    """``!!python/...`` would make BasicSR's loader call Python; ours refuses it (file and line, exit 2) and the
    call it names never happens, while ``!!float`` and plain YAML still read."""
    marker = tmp_path / 'marker'
    path = tmp_path / 'payload.yml'
    text = open(DEMO_OPTIONS).read().replace(
        'manual_seed: 0', f'manual_seed: !!python/object/apply:os.system ["touch {marker}"]')
    path.write_text(text)
    line = text.splitlines().index(next(t for t in text.splitlines() if 'python/object' in t)) + 1
    with pytest.raises(OptionError, match=rf'payload.yml line {line}, column \d+: the tag '
                                          r'!!python/object/apply:os.system is not allowed'):
        load_option_file(str(path))
    result = subprocess.run([sys.executable, '-m', f'mrr_plugin.{entry_point}', '-opt', str(path)],
                            env=python_env(tmp_path / 'project'), capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and 'Traceback' not in result.stderr
    assert 'nothing from the file was run' in result.stderr
    assert not marker.exists() and not (tmp_path / 'project').exists()
    assert isinstance(load_option_file(DEMO_OPTIONS)['train']['optim_g']['lr'], float)  # !!float still reads
