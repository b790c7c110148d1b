"""The commands users type: ``python -m mrr_plugin.restore`` and ``python -m mrr_plugin.export_onnx``."""
import os
import re
import subprocess
import sys
from os import path as osp

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from mrr_plugin import export_onnx, restore
from mrr_plugin.archs.mrrnet_arch import MRRNet
from mrr_plugin.restoration import FaceModel
from tests.conftest import PROJECT_ROOT
from tests.helpers.face_photos import NO_GUARD_ARGS, background, composite, write_astronaut_faces


@pytest.fixture(scope='module')
def mrrnet_checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('mrrnet') / 'net_g.pth'
    torch.save({'params': MRRNet().state_dict()}, path)
    return str(path)


@pytest.fixture(scope='module')
def photos(tmp_path_factory):
    """astronaut.png, a composite JPEG with two real faces (the astronaut's and its mirror image), a photo without
    a face and a broken file."""
    folder = tmp_path_factory.mktemp('photos')
    Image.fromarray(data.astronaut()).save(folder / 'astronaut.png')
    faces = write_astronaut_faces(tmp_path_factory.mktemp('faces'))
    Image.fromarray(composite(faces, [(80, 100, 96), (400, 200, 112)], 'chelsea')).save(folder / 'two_faces.jpg',
                                                                                        quality=95)
    Image.fromarray(background('coffee', (200, 150))).save(folder / 'no_face.png')
    (folder / 'broken.png').write_bytes(b'not an image')
    return folder


def run_restore(capsys, *argv, guards=False):
    """``(exit status, log)`` of the command (random-weight networks: the guards off unless ``guards``)."""
    with pytest.raises(SystemExit) as exit_info:
        from mrr_plugin.cli import run
        run(restore.main, list(argv) + ([] if guards else NO_GUARD_ARGS))
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out + captured.err


def test_folder_with_a_broken_file_and_a_photo_without_faces(photos, mrrnet_checkpoint, tmp_path, capsys):
    out = tmp_path / 'out'
    code, log = run_restore(capsys, '-i', str(photos), '-o', str(out), '--model', f'{mrrnet_checkpoint}@MRRNet',
                            '--save-faces', '--suffix', 'mrr', '--upscale', '2', '--batch-size', '3', '--niqe')
    assert code == 1  # one input failed, the others were written
    assert log.count('skipped') == 1 and 'broken.png' in log and '1 input(s) failed' in log
    assert 'no_face.png: no face found' in log and 'restored 3 faces in 3 photos' in log
    niqe = re.search(r'NIQE \(lower is better\) of the 3 restored faces: ([\d.]+); the same faces bicubic-upscaled: '
                     r'([\d.]+)', log)
    assert niqe and float(niqe[1]) > 0 and float(niqe[2]) > 0
    assert sorted(os.listdir(out / 'restored_imgs')) == ['astronaut_mrr.png', 'no_face_mrr.png', 'two_faces_mrr.jpg']
    assert Image.open(out / 'restored_imgs' / 'two_faces_mrr.jpg').size == (1280, 960)
    for folder in ('cropped_faces', 'restored_faces', 'cmp'):
        assert len(os.listdir(out / folder)) == 3
    assert Image.open(out / 'cmp' / 'astronaut_00.png').size == (256, 128)
    assert Image.open(out / 'cropped_faces' / 'two_faces_01.png').size == (128, 128)


def test_glob_ext_center_face_aligned_bf16_lbp_and_background_network(
        photos, mrrnet_checkpoint, tmp_path, capsys):
    from basicsr.archs.srvgg_arch import SRVGGNetCompact
    torch.save({'params': SRVGGNetCompact(num_feat=8, num_conv=2, upscale=2).state_dict()}, tmp_path / 'bg.pth')
    code, log = run_restore(capsys, '-i', str(photos / 'two*.jpg'), '-o', str(tmp_path / 'a'), '--model',
                            f'{mrrnet_checkpoint}@MRRNet', '--ext', 'png', '--only-center-face', '--precision', 'bf16',
                            '--bg-upsampler', f'{tmp_path / "bg.pth"}@SRVGGNetCompact:num_feat=8,num_conv=2,upscale=2',
                            '--bg-tile', '100')
    assert code == 0 and 'restored 1 faces in 1 photos' in log
    assert os.listdir(tmp_path / 'a' / 'restored_imgs') == ['two_faces.png']

    code, log = run_restore(capsys, '-i', str(photos / 'astronaut.png'), '-o', str(tmp_path / 'b'), '--model',
                            f'{mrrnet_checkpoint}@MRRNet', '--detector', 'lbp', '--upscale', '1')
    assert code == 0 and Image.open(tmp_path / 'b' / 'restored_imgs' / 'astronaut.png').size == (512, 512)

    face = write_astronaut_faces(tmp_path)[0]
    code, log = run_restore(capsys, '-i', face, '-o', str(tmp_path / 'c'), '--model',
                            f'{mrrnet_checkpoint}@MRRNet', '--aligned')
    stem = osp.splitext(osp.basename(face))[0]
    assert code == 0 and sorted(os.listdir(tmp_path / 'c')) == ['cmp', 'cropped_faces', 'restored_faces']
    assert Image.open(tmp_path / 'c' / 'restored_faces' / f'{stem}_00.png').size == (128, 128)


@pytest.mark.parametrize('argv, message', [
    (['--model', 'missing.pth@MRRNet'], '--model: checkpoint missing.pth does not exist.'),
    (['--model', 'missing.yml'], '--model: option file missing.yml does not exist.'),
    (['--model', 'CKPT@MRRNet', '--ext', 'gif'], '--ext gif: expected png, jpg or auto.'),
    (['--model', 'CKPT@MRRNet', '--precision', 'fp16', '--device', 'cpu'], 'fp16 needs a CUDA device'),
    (['--model', 'CKPT@MRRNet', '-i', 'nothing_here/*.png'],
     '--input nothing_here/*.png: no image or video file there.'),
])
def test_bad_arguments_are_one_line_and_create_nothing(argv, message, photos, mrrnet_checkpoint, tmp_path, capsys):
    argv = [mrrnet_checkpoint + '@MRRNet' if a == 'CKPT@MRRNet' else a for a in argv]
    if '-i' not in argv:
        argv += ['-i', str(photos / 'astronaut.png')]
    code, log = run_restore(capsys, *argv, '-o', str(tmp_path / 'out'))
    assert code == 1 and message in log and 'Traceback' not in log and log.count('error:') == 1
    assert not (tmp_path / 'out').exists()


def test_export_onnx_matches_torch_on_faces_and_restores(mrrnet_checkpoint, face_pairs, photos, tmp_path, capsys):
    onnx_path = tmp_path / 'mrrnet.onnx'
    _, lr, _ = face_pairs
    assert export_onnx.main(['--model', f'{mrrnet_checkpoint}@MRRNet', '--out', str(onnx_path), '--dynamic-batch',
                             '--check-faces', lr, '--check-count', '12']) == 0
    log = capsys.readouterr().out
    assert 'onnxruntime vs torch on 12 faces' in log
    assert float(log.split('max |difference| ')[1].split()[0]) <= 1e-4

    from mrr_plugin.restoration.onnx_runtime import OnnxNetwork
    network = OnnxNetwork(str(onnx_path))
    assert (network.lr_size, network.hr_size, network.alignment) == (16, 128, 'dic')
    torch.manual_seed(1)
    batch = torch.rand(5, 3, 16, 16)  # another batch size than the export's
    with torch.no_grad():
        reference = MRRNet().eval()
        reference.load_state_dict(torch.load(mrrnet_checkpoint, weights_only=True)['params'])
        assert float((network(batch) - reference(batch)).abs().max()) <= 1e-4

    code, log = run_restore(capsys, '-i', str(photos / 'astronaut.png'), '-o', str(tmp_path / 'onnx'), '--model',
                            str(onnx_path), '--runtime', 'onnx', '--save-faces')
    assert code == 0
    torch_out = tmp_path / 'torch'
    run_restore(capsys, '-i', str(photos / 'astronaut.png'), '-o', str(torch_out), '--model',
                f'{mrrnet_checkpoint}@MRRNet', '--save-faces')
    by_onnx = np.asarray(Image.open(tmp_path / 'onnx' / 'restored_faces' / 'astronaut_00.png'), int)
    by_torch = np.asarray(Image.open(torch_out / 'restored_faces' / 'astronaut_00.png'), int)
    assert np.abs(by_onnx - by_torch).max() <= 1


@pytest.mark.slow
@pytest.mark.parametrize('arch', ['SPARNet', 'EDSR:num_in_ch=3,num_out_ch=3,upscale=8,num_block=2',
                                  'RRDBNetX8:num_block=1', 'MSRResNetX8:num_block=2'])
def test_export_onnx_sparnet_and_baselines(arch, tmp_path, capsys, face_pairs):
    from basicsr.archs import build_network

    from mrr_plugin.utils.option_file import parse_key_values
    name, _, options = arch.partition(':')
    torch.manual_seed(0)
    network = build_network({'type': name, **parse_key_values(options)})
    torch.save({'params': network.state_dict()}, tmp_path / 'net.pth')
    assert export_onnx.main(['--model', f'{tmp_path / "net.pth"}@{arch}', '--out', str(tmp_path / 'net.onnx'),
                             '--check-faces', face_pairs[1]]) == 0  # LR faces
    assert 'max |difference|' in capsys.readouterr().out


def test_restore_command_line_in_a_subprocess(photos, mrrnet_checkpoint, tmp_path):
    """The real command line as typed: exit status and output folder."""
    result = subprocess.run([sys.executable, '-m', 'mrr_plugin.restore', '-i', str(photos / 'astronaut.png'),
                             '-o', str(tmp_path / 'out'), '--model', f'{mrrnet_checkpoint}@MRRNet', *NO_GUARD_ARGS],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert 'restored 1 faces in 1 photos' in result.stdout
    assert osp.isfile(tmp_path / 'out' / 'restored_imgs' / 'astronaut.png')


def test_option_file_model_and_its_restore_alignment(mrrnet_checkpoint, tmp_path):
    import yaml
    opt = yaml.safe_load(open(osp.join(PROJECT_ROOT, 'options/test/MRRNet/test_MRRNet_x8_CelebA.yml')))
    assert opt['restore']['alignment'] == 'dic'
    opt['path']['pretrain_network_g'] = mrrnet_checkpoint
    opt['restore'] = {'alignment': 'ffhq'}
    (tmp_path / 'test.yml').write_text(yaml.safe_dump(opt))
    model = FaceModel.from_spec(str(tmp_path / 'test.yml'))
    assert (model.alignment, model.lr_size, model.hr_size, model.name) == ('ffhq', 16, 128, 'MRRNet')
    assert FaceModel.from_spec(str(tmp_path / 'test.yml'), alignment='dic').alignment == 'dic'  # the flag wins


@pytest.mark.parametrize('extra, message', [
    (['--out', 'net.txt'], '--out net.txt: give a path ending in .onnx.'),
    (['--out', 'net.onnx', '--check-faces', 'no_such_folder'], '--check-faces no_such_folder is not a folder.'),
])
def test_export_onnx_bad_arguments_are_one_line(extra, message, mrrnet_checkpoint, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert export_onnx.main(['--model', f'{mrrnet_checkpoint}@MRRNet', *extra]) == 1
    log = capsys.readouterr().err
    assert message in log and log.count('error:') == 1 and not (tmp_path / 'net.onnx').exists()


def test_baseline_face_size_device_and_detector_options(tmp_path, photos, capsys):
    from basicsr.archs import build_network
    torch.manual_seed(0)
    edsr = {'type': 'EDSR', 'num_in_ch': 3, 'num_out_ch': 3, 'num_feat': 8, 'num_block': 1, 'upscale': 8}
    torch.save({'params': build_network(edsr).state_dict()}, tmp_path / 'edsr.pth')
    spec = f'{tmp_path / "edsr.pth"}@EDSR:num_in_ch=3,num_out_ch=3,num_feat=8,num_block=1,upscale=8'
    model = FaceModel.from_spec(spec, face_size=256)
    assert (model.lr_size, model.hr_size, model.alignment) == (32, 256, 'dic')  # EDSR runs at any size
    code, log = run_restore(capsys, '-i', str(photos / 'astronaut.png'), '-o', str(tmp_path / 'out'), '--model', spec,
                            '--face-size', '64', '--device', 'cpu', '--min-face-size', '40', '--save-faces')
    assert code == 0 and Image.open(tmp_path / 'out' / 'restored_faces' / 'astronaut_00.png').size == (64, 64)
    code, log = run_restore(capsys, '-i', str(photos / 'astronaut.png'), '-o', str(tmp_path / 'r'), '--model', spec,
                            '--detector', 'retinaface', '--weights-dir', str(tmp_path))
    assert code == 1 and 'detection_Resnet50_Final.pth' in log and log.count('error:') == 1
    assert not (tmp_path / 'r').exists()


def test_readme_api_example_runs_as_written(tmp_path, monkeypatch):
    """README's Python API block, executed verbatim in a folder holding the option file it names and the checkpoint
    that file points to (random MRRNet weights)."""
    import shutil
    readme = open(osp.join(PROJECT_ROOT, 'README.md'), encoding='utf-8').read()
    block = re.search(r'The Python API the command is a shell over.*?```python\n(.*?)```', readme, re.S).group(1)
    option_file = 'options/test/MRRNet/test_MRRNet_x8_CelebA.yml'
    assert option_file in block
    os.makedirs(tmp_path / osp.dirname(option_file))
    shutil.copy(osp.join(PROJECT_ROOT, option_file), tmp_path / option_file)
    checkpoint = tmp_path / 'experiments/MRRNet_x8_CelebA/models/net_g_latest.pth'
    os.makedirs(checkpoint.parent)
    torch.manual_seed(0)
    torch.save({'params': MRRNet().state_dict()}, checkpoint)
    monkeypatch.chdir(tmp_path)
    namespace = {'rgb_uint8_photo': data.astronaut()}
    exec(compile(block, 'README.md', 'exec'), namespace)
    result = namespace['result']
    # the astronaut's 144-px face is 9x the random MRRNet's 16-px input: left to the background, as by default
    assert result.image.shape == (2048, 2048, 3) and result.faces == [] and len(result.left_alone) == 1
    assert '--max-face-scale 2' in result.left_alone[0].reason and result.left_alone[0].side > 100
