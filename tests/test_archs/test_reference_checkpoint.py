"""The authors' checkpoints load into our classes and give identical outputs (through range_norm)."""
import os
import subprocess
import sys

import pytest
import torch
from basicsr.archs import build_network

from mrr_plugin.archs.reference_checkpoint import convert_reference_state_dict
from tests.conftest import PROJECT_ROOT, assert_computes_reference, load_reference

SCRIPT = os.path.join(PROJECT_ROOT, 'scripts', 'convert_reference_checkpoint.py')


@pytest.mark.parametrize('arch, name', [('MRRNet', 'mrrnet_g'), ('SPARNet', 'sparnet_g')])
def test_converted_generator_equals_authors_on_unit_range(arch, name):
    """ours(x01) == (ref(2 * x01 - 1) + 1) / 2 on the authors' pre-upsampled input."""
    authors_file = {f'module.{k}': v for k, v in load_reference(name)['state_dict'].items()}  # from DataParallel
    converted = convert_reference_state_dict(arch, authors_file)['params']
    net = build_network({'type': arch, 'upscale': 1})  # range_norm: the default
    assert_computes_reference(net, name, converted, to_input=lambda x: (x + 1) / 2, to_output=lambda y: (y + 1) / 2)


def test_converted_discriminator_equals_authors():
    authors_file = {'state_dict': load_reference('mrrgan_d')['state_dict']}
    converted = convert_reference_state_dict('MRRPatchDiscriminator', authors_file)['params']
    net = build_network({'type': 'MRRPatchDiscriminator'})
    assert_computes_reference(net, 'mrrgan_d', converted, to_input=lambda x: (x + 1) / 2)


def test_weights_of_another_network_are_refused():
    wrong = build_network({'type': 'MRRNet', 'kernel_sizes': [1, 3]}).state_dict()
    with pytest.raises(ValueError, match='not a MRRNet'):
        convert_reference_state_dict('MRRNet', wrong)
    with pytest.raises(ValueError, match='--arch must be one of'):
        convert_reference_state_dict('EDSR', wrong)


def test_command_line_writes_a_basicsr_checkpoint(tmp_path):
    ref = load_reference('mrrnet_g')
    torch.save(ref['state_dict'], tmp_path / 'authors.pth')
    result = subprocess.run([sys.executable, SCRIPT, '--arch', 'MRRNet', str(tmp_path / 'authors.pth'),
                             str(tmp_path / 'ours.pth')], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert 'range_norm: true' in result.stdout
    params = torch.load(tmp_path / 'ours.pth', weights_only=True)['params']
    torch.testing.assert_close(params['out_conv.conv2d.weight'], ref['state_dict']['out_conv.conv2d.weight'])
    bad = subprocess.run([sys.executable, SCRIPT, '--arch', 'SPARNet', str(tmp_path / 'authors.pth'),
                          str(tmp_path / 'x.pth')], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and 'not a SPARNet' in bad.stderr and 'Traceback' not in bad.stderr
    assert not (tmp_path / 'x.pth').exists()


@pytest.mark.parametrize('arch, name, options', [('MRRNet', 'mrrnet_g', {'upscale': 1, 'range_norm': False}),
                                                 ('SPARNet', 'sparnet_g', {'upscale': 1, 'range_norm': False}),
                                                 ('MRRPatchDiscriminator', 'mrrgan_d', {'range_norm': False})])
def test_the_checkouts_own_vectors_of_the_authors_code(arch, name, options):
    """The vectors every checkout carries (written from the authors' code, tests/helpers/authors_reference.py),
    checked even where the team's are present: our network with the same seeded weights gives their output."""
    from tests.helpers.authors_reference import FOLDER, load_committed, read_keys
    reference = load_committed(name)
    net = build_network({'type': arch, **options}).eval()
    assert {k: tuple(v.shape) for k, v in net.state_dict().items()} == read_keys(f'{FOLDER}/{name}_state_dict.tsv')
    net.load_state_dict(reference['state_dict'])
    with torch.no_grad():
        out = net(reference['input'])
    assert (out - reference['output']).abs().max() <= 1e-4 * reference['output'].abs().max()
