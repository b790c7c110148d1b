"""The entry points' option parsing: BasicSR's option dict, read with a safe loader, numbers as users write them."""
import os

import pytest
from basicsr.utils import options as basicsr_options

from mrr_plugin.pipelines.options import parse_options
from mrr_plugin.utils.option_file import OptionError, load_option_file
from tests.conftest import PROJECT_ROOT

DEMO_OPTIONS = os.path.join(PROJECT_ROOT, 'options', 'train', 'MRRNet', 'train_MRRNet_x8_demo_CPU.yml')
TEST_OPTIONS = os.path.join(PROJECT_ROOT, 'options', 'test', 'MRRNet', 'test_MRRNet_x8_CelebA.yml')


@pytest.mark.parametrize('opt_file, is_train', [(DEMO_OPTIONS, True), (TEST_OPTIONS, False)])
def test_same_option_dict_as_basicsr(opt_file, is_train, monkeypatch, tmp_path):
    argv = ['-opt', opt_file, '--force_yml', 'manual_seed=7', 'logger:print_freq=3'][:None if is_train else 2]
    monkeypatch.setattr('sys.argv', ['train.py', *argv])
    expected, _ = basicsr_options.parse_options(str(tmp_path), is_train=is_train)
    expected['root_path'] = str(tmp_path)
    got, args = parse_options(str(tmp_path), is_train=is_train, argv=argv)
    assert got == expected and args.opt == opt_file


def test_exponent_numbers_are_numbers_with_a_note(tmp_path):
    path = tmp_path / 'opt.yml'
    path.write_text(open(DEMO_OPTIONS).read().replace('lr: !!float 5e-4', 'lr: 5e-4'))
    notes = []
    opt = load_option_file(str(path), notes)
    assert opt['train']['optim_g']['lr'] == 5e-4
    line = path.read_text().splitlines().index('    lr: 5e-4') + 1
    assert notes == [f'{path} line {line}: 5e-4 read as the number 0.0005 (YAML 1.1 and BasicSR\'s own loader read '
                     'it as text).']
    assert load_option_file(DEMO_OPTIONS, notes=[]) and isinstance(opt['name'], str)


def test_force_yml_values_are_plain_yaml_and_never_run(tmp_path):
    marker = tmp_path / 'marker'
    argv = ['-opt', DEMO_OPTIONS, '--force_yml', 'train:optim_g:lr=5e-4', 'val:save_img=true', 'path:resume_state=none']
    opt, _ = parse_options(str(tmp_path), argv=argv)
    assert opt['train']['optim_g']['lr'] == 5e-4 and opt['val']['save_img'] is True
    assert opt['path']['resume_state'] is None
    payload = f'manual_seed=!!python/object/apply:os.system ["touch {marker}"]'
    with pytest.raises(OptionError, match='the tag !!python/object/apply:os.system is not allowed'):
        parse_options(str(tmp_path), argv=['-opt', DEMO_OPTIONS, '--force_yml', payload])
    with pytest.raises(OptionError, match='expected key:subkey=value'):
        parse_options(str(tmp_path), argv=['-opt', DEMO_OPTIONS, '--force_yml', 'manual_seed'])
    assert not marker.exists()
