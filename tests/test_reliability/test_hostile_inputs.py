"""Every input may be damaged or hostile, every run may have a neighbour: nothing lost, nothing wrong, one line.

Each guarantee in its own test, on faces the project draws (``preparation/synthetic_faces.py``) or scikit-image's
photos, with real files (truncated LMDBs, symlink loops, FIFOs, a PNG header declaring 60000x60000, an alias-bomb
YAML, a pickle payload) and real subprocesses, each under a memory and time cap (:func:`run_capped`), so a
regression shows as a failure, never as a hung or killed suite.
"""
import json
import os
import re
import resource
import signal
import struct
import subprocess
import sys
import time
import zlib
from os import path as osp

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from mrr_plugin.archs.mrrnet_arch import MRRNet
from mrr_plugin.data.data_checks import dataset_problems
from mrr_plugin.data.face_image_io import BadImageError, read_image
from mrr_plugin.data.face_lmdb import LmdbBuildError, build_face_lmdb
from mrr_plugin.data.image_folder import list_images, scan_images
from mrr_plugin.restore import output_stems
from mrr_plugin.utils.checkpoint_file import UnsafeOrBrokenFile, load_checkpoint
from mrr_plugin.utils.lmdb_file import lmdb_file_problem
from mrr_plugin.utils.option_file import MAX_EXPANDED_NODES, OptionError, load_option_file
from tests.conftest import PROJECT_ROOT, python_env, tiny_training_dict, write_options, write_synthetic_pairs
from tests.helpers.face_photos import NO_GUARD_ARGS
from tests.helpers.payload import Payload

MEMORY_CAP = 6 << 30  # address space of each command under test (torch + a model need about 3 GB)


def run_capped(argv, root, timeout=300, memory=MEMORY_CAP, env=None):
    """``argv`` in a subprocess with at most ``memory`` bytes of address space and ``timeout`` seconds."""
    def limits():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    return subprocess.run(argv, cwd=PROJECT_ROOT, env=env or python_env(root), capture_output=True, text=True,
                          timeout=timeout, preexec_fn=limits)


def error_lines(result):
    return [line for line in result.stderr.splitlines() if line.startswith('error:')]


def assert_one_line_refusal(result, *expected):
    """Exit status 1..5 (not a signal), one ``error:`` line holding every ``expected`` text, no traceback."""
    assert 0 < result.returncode < 10, (result.returncode, result.stderr[-2000:])
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr[-2000:]
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope='module')
def faces(tmp_path_factory):
    """(HR folder, LR folder) of 12 synthetic faces."""
    return write_synthetic_pairs(str(tmp_path_factory.mktemp('faces')), 12)


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('net') / 'net_g.pth'
    torch.save({'params': MRRNet(min_ch=8, max_ch=16, res_depth=2).state_dict()}, path)
    return f'{path}@MRRNet:min_ch=8,max_ch=16,res_depth=2'


def benchmark(root, hr, lr, out, *extra):
    return run_capped([sys.executable, '-m', 'mrr_plugin.benchmark', '--hr', hr, '--lr', lr, '--out', out,
                       '--timing-runs', '1', '--timing-batch', '1', '--grid-faces', '2', *extra], root)


# ----------------------------------------------------------------------------------------------------------------
# Damaged data: one LMDB opener, one folder scanner
# ----------------------------------------------------------------------------------------------------------------
def paired_lmdbs(faces, folder):
    hr, lr = faces
    paths = str(folder / 'HR.lmdb'), str(folder / 'LR.lmdb')
    build_face_lmdb(hr, paths[0], lr, paths[1], progress=False)
    return paths


def test_truncated_lmdb_is_one_line_not_sigbus(faces, tmp_path):
    hr_lmdb, lr_lmdb = paired_lmdbs(faces, tmp_path)
    data_file = osp.join(hr_lmdb, 'data.mdb')
    assert lmdb_file_problem(hr_lmdb) is None
    with open(data_file, 'r+b') as f:  # an interrupted copy
        f.truncate(os.path.getsize(data_file) // 3)
    out = tmp_path / 'bench'
    result = benchmark(tmp_path, hr_lmdb, lr_lmdb, str(out))
    assert result.returncode != -signal.SIGBUS
    assert_one_line_refusal(result, data_file, 'cut short')
    assert not out.exists()  # refused before --out was created


def test_lmdb_with_a_damaged_header_or_records_is_named(faces, tmp_path):
    hr_lmdb, lr_lmdb = paired_lmdbs(faces, tmp_path)
    dataset = {'dataroot_gt': hr_lmdb, 'dataroot_lq': lr_lmdb, 'io_backend': {'type': 'lmdb'}}
    assert dataset_problems('datasets.val', dataset, 8) == []
    with open(osp.join(lr_lmdb, 'meta_info.txt'), 'a') as f:  # a record the LMDB does not hold
        f.write('ghost.png (16,16,3) 1\n')
    with open(osp.join(hr_lmdb, 'meta_info.txt'), 'a') as f:
        f.write('ghost.png (128,128,3) 1\n')
    problems = dataset_problems('datasets.val', dataset, 8, full=True)
    assert len(problems) == 2 and all('ghost: missing' in p for p in problems), problems
    with open(osp.join(hr_lmdb, 'data.mdb'), 'r+b') as f:  # both meta pages overwritten
        f.write(bytes(2 * 4096))
    problem = lmdb_file_problem(hr_lmdb)
    assert problem and 'is not an LMDB data file' in problem
    assert any('is not an LMDB data file' in p for p in dataset_problems('datasets.val', dataset, 8))


@pytest.fixture
def odd_folder(faces, tmp_path):
    """A copy of the synthetic HR faces plus a link to nowhere, a link loop, a FIFO and a folder named like images."""
    folder = tmp_path / 'odd'
    folder.mkdir()
    for name in os.listdir(faces[0]):
        os.link(osp.join(faces[0], name), folder / name)
    os.symlink('missing.png', folder / 'dangling.png')
    os.symlink('loop_b.png', folder / 'loop_a.png')
    os.symlink('loop_a.png', folder / 'loop_b.png')
    os.mkfifo(folder / 'fifo.png')
    (folder / 'folder.png').mkdir()
    return folder


def test_odd_folder_entries_are_found_at_check_time(odd_folder, faces, tmp_path):
    scan = scan_images(str(odd_folder))
    assert len(scan.names) == 12
    assert sorted(scan.bad) == ['dangling.png', 'fifo.png', 'folder.png', 'loop_a.png', 'loop_b.png']
    assert 'symbolic link loop' in scan.bad['loop_a.png'] and 'does not exist' in scan.bad['dangling.png']
    assert 'FIFO' in scan.bad['fifo.png'] and 'a folder' in scan.bad['folder.png']
    with pytest.raises(ValueError, match='5 entries are named like images but not readable files'):
        list_images(str(odd_folder))
    with pytest.raises(BadImageError, match='fifo.png: a FIFO'):  # never opened (it would block)
        read_image(str(odd_folder / 'fifo.png'))
    dataset = {'dataroot_gt': str(odd_folder), 'io_backend': {'type': 'disk'}}
    problems = dataset_problems('datasets.train', dataset, 8)
    assert len(problems) == 1 and '5 file(s)' in problems[0] and 'fifo.png' in problems[0], problems
    with pytest.raises(LmdbBuildError, match='5 bad images'):
        build_face_lmdb(str(odd_folder), str(tmp_path / 'x.lmdb'), progress=False)
    report = build_face_lmdb(str(odd_folder), str(tmp_path / 'x.lmdb'), skip_bad=True, progress=False)
    assert report.written == 12 and len(report.bad) == 5


def test_benchmark_on_a_folder_with_odd_entries_is_one_line(odd_folder, faces, tmp_path):
    result = benchmark(tmp_path, str(odd_folder), faces[1], str(tmp_path / 'bench'))
    assert_one_line_refusal(result, '--hr', 'fifo.png')
    assert not (tmp_path / 'bench').exists()


# ----------------------------------------------------------------------------------------------------------------
# Refusals that are one line: checkpoints, enormous images, outputs that never collide
# ----------------------------------------------------------------------------------------------------------------
def test_checkpoint_holding_code_is_one_line_in_restore_and_benchmark(faces, tmp_path):
    marker = tmp_path / 'payload_ran'
    bad = tmp_path / 'net_g.pth'
    torch.save({'params': MRRNet(min_ch=8, max_ch=16, res_depth=2).state_dict(), 'x': Payload(str(marker))}, bad)
    with pytest.raises(UnsafeOrBrokenFile, match=r'holds Python objects \(io.open\) .* refused'):
        load_checkpoint(str(bad))
    spec = f'{bad}@MRRNet:min_ch=8,max_ch=16,res_depth=2'
    restore = run_capped([sys.executable, '-m', 'mrr_plugin.restore', '-i', faces[0], '-o', str(tmp_path / 'out'),
                          '--model', spec, '--aligned'], tmp_path)
    bench = benchmark(tmp_path, faces[0], faces[1], str(tmp_path / 'bench'), '--method', f'M={spec}')
    for result in (restore, bench):
        line = assert_one_line_refusal(result, str(bad), 'holds Python objects', 'nothing in it was run')
        assert 'weights_only' not in result.stderr and 'weights_only' not in line
    assert not marker.exists()
    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes(bad.read_bytes()[:1000])
    with pytest.raises(UnsafeOrBrokenFile, match='truncated or not a PyTorch file'):
        load_checkpoint(str(truncated))


def png_declaring(width, height):
    """A small PNG file whose header declares ``width`` x ``height`` pixels (its data is a few bytes)."""
    def chunk(kind, body):
        return struct.pack('>I', len(body)) + kind + body + struct.pack('>I', zlib.crc32(kind + body))
    header = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', zlib.compress(b'\0' * 64)) + \
        chunk(b'IEND', b'')


def test_restore_batch_survives_an_enormous_header_and_keeps_outputs_apart(checkpoint, tmp_path):
    photos = tmp_path / 'photos'
    photos.mkdir()
    (photos / 'huge.png').write_bytes(png_declaring(60000, 60000))
    with pytest.raises(BadImageError, match='3,600,000,000 pixels, more than the 66-megapixel limit'):
        read_image(str(photos / 'huge.png'))
    (tmp_path / 'large.png').write_bytes(png_declaring(9000, 9000))  # below PIL's own limit: ours refuses it
    with pytest.raises(BadImageError, match='declares 9000x9000 pixels, more than the 66-megapixel limit'):
        read_image(str(tmp_path / 'large.png'))
    Image.fromarray(data.astronaut()).save(photos / 'astronaut.png')
    Image.fromarray(data.astronaut()[:, ::-1].copy()).save(photos / 'astronaut.jpg', quality=95)
    Image.fromarray(data.coffee()).save(photos / 'coffee.png')
    out = tmp_path / 'out'
    started = time.time()
    result = run_capped([sys.executable, '-m', 'mrr_plugin.restore', '-i', str(photos), '-o', str(out), '--model',
                         checkpoint, '--upscale', '1', '--save-faces', '--batch-size', '4', *NO_GUARD_ARGS], tmp_path)
    assert time.time() - started < 300
    assert result.returncode == 1, result.stderr[-3000:]
    assert 'Traceback' not in result.stderr
    skipped = [line for line in result.stderr.splitlines() if line.startswith('skipped')]
    assert len(skipped) == 1 and 'huge.png' in skipped[0], result.stderr[-2000:]
    assert '3,600,000,000 pixels' in skipped[0]
    assert sorted(os.listdir(out / 'restored_imgs')) == ['astronaut_jpg.jpg', 'astronaut_png.png', 'coffee.png']
    assert sorted(os.listdir(out / 'restored_faces')) == ['astronaut_jpg_00.png', 'astronaut_png_00.png']
    mirrored = np.asarray(Image.open(out / 'restored_faces' / 'astronaut_jpg_00.png'))
    plain = np.asarray(Image.open(out / 'restored_faces' / 'astronaut_png_00.png'))
    assert np.abs(mirrored.astype(int) - plain.astype(int)).mean() > 1  # two different faces, both kept


def test_output_stems_are_unique_per_input():
    paths = ['a/x.png', 'a/x.jpg', 'b/x.png', 'a/y.png', 'a/x_png.png']
    stems = output_stems(paths)
    assert stems['a/y.png'] == 'y' and stems['a/x.png'] == 'x_png' and stems['a/x.jpg'] == 'x_jpg'
    assert len(set(stems.values())) == len(paths)


# ----------------------------------------------------------------------------------------------------------------
# Hostile option files: one bounded reader
# ----------------------------------------------------------------------------------------------------------------
def alias_bomb(levels=9, width=10):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(f'a{level}: &a{level} [' + ', '.join([f'*a{level - 1}'] * width) + ']')
    return '\n'.join(lines) + f'\nname: *a{levels - 1}\n'


def test_alias_bomb_option_file_is_refused_quickly(tmp_path):
    bomb = tmp_path / 'bomb.yml'
    bomb.write_text(alias_bomb())
    with pytest.raises(OptionError, match=f'expand to more than {MAX_EXPANDED_NODES:,} values'):
        load_option_file(str(bomb))
    (tmp_path / 'cycle.yml').write_text('a: &a [1, *a]\nname: x\n')
    with pytest.raises(OptionError, match='refer to themselves'):
        load_option_file(str(tmp_path / 'cycle.yml'))
    (tmp_path / 'shared.yml').write_text('base: &b {type: Adam, lr: 1.0e-4}\nname: x\nother: *b\n')
    assert load_option_file(str(tmp_path / 'shared.yml'))['other']['lr'] == 1e-4  # ordinary anchors still work
    started = time.time()
    result = run_capped([sys.executable, '-m', 'mrr_plugin.train', '-opt', str(bomb)], tmp_path, timeout=120,
                        memory=4 << 30)
    assert time.time() - started < 120
    assert result.returncode == 2, result.stderr[-2000:]
    assert 'aliases' in result.stderr and len(result.stderr) < 2000 and 'Traceback' not in result.stderr
    assert not (tmp_path / 'experiments').exists()


def test_option_problems_quote_a_bounded_excerpt_of_a_value(tmp_path, face_lmdbs):
    opt = tiny_training_dict(face_lmdbs, 'excerpt', 2)
    opt['train']['optim_g']['lr'] = 'x' * 100_000
    path = write_options(tmp_path / 'long.yml', opt)
    result = run_capped([sys.executable, '-m', 'mrr_plugin.train', '-opt', path], tmp_path, timeout=120)
    assert result.returncode == 2 and 'train.optim_g.lr: expected a number' in result.stderr
    assert '(100002 characters)' in result.stderr and len(result.stderr) < 3000, result.stderr[:3000]


# ----------------------------------------------------------------------------------------------------------------
# Runs own their folders
# ----------------------------------------------------------------------------------------------------------------
def start_training(root, path, log_name):
    log = open(root / log_name, 'w')
    return subprocess.Popen([sys.executable, '-m', 'mrr_plugin.train', '-opt', path], cwd=PROJECT_ROOT,
                            env=python_env(root), stdout=log, stderr=subprocess.STDOUT), root / log_name


def wait_for(log_path, pattern, process, seconds=300):
    deadline = time.time() + seconds
    while not re.search(pattern, log_path.read_text()):
        assert process.poll() is None, log_path.read_text()[-3000:]
        assert time.time() < deadline, log_path.read_text()[-3000:]
        time.sleep(0.1)


@pytest.mark.slow
def test_second_run_of_a_name_is_refused_while_the_first_lives(tmp_path, face_lmdbs):
    opt = tiny_training_dict(face_lmdbs, 'neighbour', 100_000)
    opt['logger']['save_checkpoint_freq'] = 10_000
    path = write_options(tmp_path / 'neighbour.yml', opt)
    first, log = start_training(tmp_path, path, 'first.log')
    try:
        wait_for(log, r'iter:\s+2,', first)
        experiments = tmp_path / 'experiments'
        assert sorted(os.listdir(experiments)) == ['.neighbour.lock', '.neighbour.lock.owner', 'neighbour']
        for extra in ([], ['--auto_resume']):
            result = run_capped([sys.executable, '-m', 'mrr_plugin.train', '-opt', path, *extra], tmp_path)
            assert_one_line_refusal(result, f'experiment {experiments / "neighbour"} is in use by process '
                                    f'{first.pid}')
            assert result.returncode == 5
        assert [n for n in os.listdir(experiments) if not n.startswith('.')] == ['neighbour']  # nothing archived
        assert not any('archived' in n for n in os.listdir(tmp_path / 'tb_logger'))
        assert first.poll() is None  # the first run goes on
        first.send_signal(signal.SIGKILL)
        first.wait()
        owner = json.loads((experiments / '.neighbour.lock.owner').read_text())
        assert owner['pid'] == first.pid  # left behind by the killed run: stale
        result = run_capped([sys.executable, '-m', 'mrr_plugin.train', '-opt', path, '--force_yml',
                             'train:total_iter=2'], tmp_path, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        assert f'held by process {first.pid}' in result.stderr and 'no longer running; taken over' in result.stderr
        assert not (experiments / '.neighbour.lock.owner').exists()  # released at exit
    finally:
        first.kill()
        first.wait()


HOLD_LOCK = '''
import sys, time
{prelude}
from mrr_plugin.utils.run_lock import FolderLock
FolderLock(sys.argv[1], 'folder').acquire()
print('held', flush=True)
time.sleep(600)
'''


TRY_LOCK = '''
import sys
{prelude}
from mrr_plugin.utils.run_lock import FolderInUse, FolderLock
try:
    lock = FolderLock(sys.argv[1], 'folder').acquire()
except FolderInUse as error:
    print('refused:', error)
else:
    print('note:', lock.note)
    lock.release()
'''


@pytest.mark.parametrize('without_fcntl', [False, True], ids=['os-lock', 'no-fcntl'])
def test_folder_lock_between_processes_and_after_sigkill(tmp_path, without_fcntl):
    """A real second process holds the folder; after it is SIGKILLed the folder is taken over. Without ``fcntl``
    (as on Windows' missing module; filelock then uses a plain lock file) the pid in the owner file decides."""
    prelude = "sys.modules['fcntl'] = None" if without_fcntl else ''
    folder = tmp_path / 'results' / 'bench'

    def try_lock():
        result = subprocess.run([sys.executable, '-c', TRY_LOCK.format(prelude=prelude), str(folder)],
                                cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0 and 'Traceback' not in result.stderr, result.stderr[-2000:]
        return result.stdout.strip()

    holder = subprocess.Popen([sys.executable, '-c', HOLD_LOCK.format(prelude=prelude), str(folder)],
                              cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'held'
        assert try_lock().startswith(f'refused: folder {folder} is in use by process {holder.pid} on ')
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        taken = try_lock()
        assert taken.startswith('note:') and f'process {holder.pid}' in taken and 'taken over' in taken, taken
        assert try_lock() == 'note: None'  # released at the end of the previous process: nothing stale
    finally:
        holder.kill()
        holder.wait()


def test_import_and_lock_work_without_fcntl(tmp_path):
    code = ("import sys; sys.modules['fcntl'] = None; "
            "import mrr_plugin, mrr_plugin.data.face_lmdb, mrr_plugin.restore; "
            f"from mrr_plugin.utils.run_lock import FolderLock; FolderLock({str(tmp_path / 'x')!r}).acquire(); "
            "print('ok')")
    result = subprocess.run([sys.executable, '-c', code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == 'ok', result.stderr[-2000:]


# ----------------------------------------------------------------------------------------------------------------
# Reused results are keyed by content
# ----------------------------------------------------------------------------------------------------------------
def psnr_of(out, method):
    with open(osp.join(out, 'methods', f'{method}.json')) as f:
        return json.load(f)['results']['psnr_dic']


def test_benchmark_reuses_results_only_for_the_same_faces(tmp_path, checkpoint, capsys):
    from mrr_plugin.benchmark import main
    first = write_synthetic_pairs(str(tmp_path / 'first'), 6, seed=1)
    second = write_synthetic_pairs(str(tmp_path / 'second'), 6, seed=2)
    assert os.listdir(first[0]) == os.listdir(second[0])  # the same file names, other faces
    out = str(tmp_path / 'bench')
    args = ['--out', out, '--method', f'M={checkpoint}', '--timing-runs', '1', '--timing-batch', '1',
            '--grid-faces', '2']
    assert main(['--hr', first[0], '--lr', first[1], *args]) == 0
    scores = psnr_of(out, 'bicubic'), psnr_of(out, 'M')
    capsys.readouterr()
    assert main(['--hr', second[0], '--lr', second[1], *args]) == 0
    assert 'reusing' not in capsys.readouterr().out
    assert psnr_of(out, 'bicubic') != scores[0] and psnr_of(out, 'M') != scores[1]
    assert main(['--hr', second[0], '--lr', second[1], *args]) == 0
    assert capsys.readouterr().out.count('reusing') == 2  # the very same faces and weights: reused
    net = checkpoint.split('@')[0]
    state = torch.load(net, weights_only=True)
    state['params'] = {k: v + 0.01 if v.is_floating_point() else v for k, v in state['params'].items()}
    torch.save(state, net + '.changed')
    os.replace(net + '.changed', net)  # other weights in the same file
    assert main(['--hr', second[0], '--lr', second[1], *args]) == 0
    assert capsys.readouterr().out.count('reusing') == 1  # bicubic only


def test_benchmark_out_held_by_another_process_is_refused(tmp_path, faces, capsys):
    from mrr_plugin.benchmark import main
    out = tmp_path / 'bench'
    holder = subprocess.Popen([sys.executable, '-c', HOLD_LOCK.format(prelude=''), str(out)], cwd=PROJECT_ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'held'
        assert main(['--hr', faces[0], '--lr', faces[1], '--out', str(out)]) == 1
        assert f'error: --out {out} is in use by process {holder.pid}' in capsys.readouterr().err
        assert not out.exists()
    finally:
        holder.kill()
        holder.wait()
