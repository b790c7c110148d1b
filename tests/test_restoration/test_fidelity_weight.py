"""The fidelity knob: ``--model A --model-gan B --weight w`` restores with the weight interpolation of two
checkpoints of one arch (ESRGAN's network interpolation); its ends are the two models exactly."""
import os

import numpy as np
import pytest
import torch
from basicsr.archs import build_network
from PIL import Image

from mrr_plugin import restore
from mrr_plugin.archs.network_spec import interpolate_specs, load_network_spec
from mrr_plugin.cli import run
from mrr_plugin.restoration import FaceModel
from tests.helpers.face_photos import write_astronaut_faces

TINY = {'type': 'MRRNet', 'min_ch': 8, 'max_ch': 16, 'res_depth': 1}
OPTIONS = 'min_ch=8,max_ch=16,res_depth=1'


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """Two tiny MRRNets (as an MRRNet and an MRRGAN of one arch would be), an MRRNet of another width, an EDSR."""
    folder = tmp_path_factory.mktemp('fidelity')
    for seed, name, opt in [(0, 'fidelity', TINY), (1, 'gan', TINY), (2, 'wider', {**TINY, 'max_ch': 32}),
                            (3, 'edsr', {'type': 'EDSR', 'num_in_ch': 3, 'num_out_ch': 3, 'num_feat': 8,
                                         'num_block': 1, 'upscale': 8})]:
        torch.manual_seed(seed)
        torch.save({'params': build_network(opt).state_dict()}, folder / f'{name}.pth')
    return {'fidelity': f'{folder / "fidelity.pth"}@MRRNet:{OPTIONS}', 'gan': f'{folder / "gan.pth"}@MRRNet:{OPTIONS}',
            'wider': f'{folder / "wider.pth"}@MRRNet:min_ch=8,max_ch=32,res_depth=1',
            'edsr': f'{folder / "edsr.pth"}@EDSR:num_in_ch=3,num_out_ch=3,num_feat=8,num_block=1,upscale=8'}


def test_the_knob_ends_are_the_two_models_and_the_middle_is_their_mean(checkpoints):
    lr = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        fidelity = load_network_spec(checkpoints['fidelity']).network(lr)
        gan = load_network_spec(checkpoints['gan']).network(lr)
        at_one = FaceModel.from_spec(checkpoints['fidelity'], gan_spec=checkpoints['gan'], weight=1).network(lr)
        at_zero = FaceModel.from_spec(checkpoints['fidelity'], gan_spec=checkpoints['gan'], weight=0).network(lr)
    assert torch.equal(at_one, fidelity) and torch.equal(at_zero, gan)
    half = interpolate_specs(load_network_spec(checkpoints['fidelity']), load_network_spec(checkpoints['gan']), 0.5)
    a, b = (load_network_spec(checkpoints[k]).network.state_dict() for k in ('fidelity', 'gan'))
    for key, value in half.network.state_dict().items():
        assert torch.allclose(value, (a[key] + b[key]) / 2, atol=1e-7) if value.is_floating_point() else \
            torch.equal(value, a[key])
    with torch.no_grad():
        middle = half.network(lr)
    assert not torch.allclose(middle, fidelity) and not torch.allclose(middle, gan)
    assert '0.5 x (MRRNet' in half.description


@pytest.mark.parametrize('other, message', [
    ('edsr', 'must be the same arch with the same options'),
    ('wider', 'must be the same arch with the same options'),
])
def test_checkpoints_of_other_archs_are_refused(checkpoints, other, message):
    with pytest.raises(ValueError, match=message):
        FaceModel.from_spec(checkpoints['fidelity'], gan_spec=checkpoints[other], weight=0.5)


def test_the_command_restores_with_the_knob_and_refuses_bad_use(checkpoints, tmp_path, capsys):
    face = write_astronaut_faces(tmp_path)[0]
    stem = os.path.splitext(os.path.basename(face))[0]

    def restored(*extra, out):
        with pytest.raises(SystemExit) as exit_info:
            run(restore.main, ['-i', face, '--aligned', '-o', str(tmp_path / out), *extra])
        log = capsys.readouterr()
        return exit_info.value.code, log.out + log.err

    assert restored('--model', checkpoints['fidelity'], out='alone')[0] == 0
    code, _ = restored('--model', checkpoints['fidelity'], '--model-gan', checkpoints['gan'], '--weight', '1',
                       out='one')
    assert code == 0
    image = f'restored_faces/{stem}_00.png'
    assert np.array_equal(np.asarray(Image.open(tmp_path / 'one' / image)),
                          np.asarray(Image.open(tmp_path / 'alone' / image)))
    for extra, message in [(['--weight', '0.3'], '--weight interpolates --model with --model-gan'),
                           (['--model-gan', checkpoints['gan'], '--weight', '1.5'], 'lies in [0, 1]'),
                           (['--model-gan', checkpoints['edsr']], 'same arch with the same options')]:
        code, log = restored('--model', checkpoints['fidelity'], *extra, out='bad')
        assert code == 1 and message in log and log.count('error:') == 1 and 'Traceback' not in log
        assert not (tmp_path / 'bad').exists()
