"""`python -m mrr_plugin.benchmark` end to end on 20 faces the project draws: bicubic, MRRNet and a BasicSR
baseline."""
import csv
import json
import os
import subprocess
import sys

import pytest
import torch
from basicsr.archs import build_network
from PIL import Image

from tests.conftest import python_env

pytestmark = pytest.mark.slow
EDSR_OPTIONS = 'num_in_ch=3,num_out_ch=3,num_feat=16,num_block=2,upscale=8'


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """Small MRRNet (with its test-option YAML) and EDSR checkpoints."""
    folder = tmp_path_factory.mktemp('checkpoints')
    torch.manual_seed(0)
    mrrnet = {'type': 'MRRNet', 'min_ch': 8, 'max_ch': 16, 'res_depth': 1}
    torch.save({'params': build_network(mrrnet).state_dict()}, folder / 'mrrnet.pth')
    (folder / 'test_MRRNet.yml').write_text(
        'network_g: {type: MRRNet, min_ch: 8, max_ch: 16, res_depth: 1}\n'
        f'path: {{pretrain_network_g: {folder / "mrrnet.pth"}, strict_load_g: true}}\n')
    edsr = {'type': 'EDSR', 'num_in_ch': 3, 'num_out_ch': 3, 'num_feat': 16, 'num_block': 2, 'upscale': 8}
    torch.save({'params': build_network(edsr).state_dict()}, folder / 'edsr.pth')
    return folder


def bicubic_psnr_dic(face_pairs, count):
    """Mean DIC-protocol PSNR of PIL bicubic (x8) on the first ``count`` pairs, computed here independently."""
    import numpy as np

    from mrr_plugin.metrics.dic_psnr_ssim_metric import calculate_psnr_dic
    hr, lr, names = face_pairs
    values = []
    for name in names[:count]:
        up = Image.open(os.path.join(lr, name)).convert('RGB').resize((128, 128), Image.BICUBIC)
        values.append(calculate_psnr_dic(np.asarray(up), np.asarray(Image.open(os.path.join(hr, name)).convert('RGB')),
                                         channel_order='rgb'))
    return float(np.mean(values))


def run_benchmark(out, face_pairs, checkpoints, lpips_backbones, *extra):
    hr, lr, _ = face_pairs
    command = [sys.executable, '-m', 'mrr_plugin.benchmark', '--hr', hr, '--lr', lr, '--out', str(out), '--limit',
               '20', '--timing-runs', '2', '--timing-batch', '4', '--grid-faces', '3',
               '--lpips-backbone', lpips_backbones['alexnet'],
               '--method', f'MRRNet={checkpoints / "test_MRRNet.yml"}',
               '--method', f'EDSR={checkpoints / "edsr.pth"}@EDSR:{EDSR_OPTIONS}', *extra]
    result = subprocess.run(command, env=python_env(out), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_benchmark_writes_every_output_and_resumes(face_pairs, checkpoints, lpips_backbones, random_facexlib_weights,
                                                   tmp_path):
    out = tmp_path / 'bench'
    stdout = run_benchmark(out, face_pairs, checkpoints, lpips_backbones)
    with open(out / 'results.csv') as f:
        rows = {row['method']: row for row in csv.DictReader(f)}
    assert list(rows) == ['bicubic', 'MRRNet', 'EDSR']
    assert float(rows['bicubic']['psnr_dic']) == pytest.approx(bicubic_psnr_dic(face_pairs, 20), abs=0.01)
    assert rows['bicubic']['params_m'] == '' and float(rows['MRRNet']['params_m']) > 0
    assert float(rows['EDSR']['gmacs']) > 0 and float(rows['MRRNet']['latency_ms']) > 0
    assert all(0 < float(rows[m]['lpips']) < 1 for m in rows)
    assert rows['MRRNet']['landmark_distance'] == '' and rows['MRRNet']['fid'] == ''  # no weights: blank, a note
    assert all(float(rows[m]['niqe']) > 0 for m in rows)  # needs no weights
    markdown = (out / 'results.md').read_text()
    assert 'DIC protocol' in markdown and 'Empty columns' in markdown and 'alignment_WFLW_4HG.pth' in markdown
    assert 'FID needs pt_inception-2015-12-05-6726825d.pth' in markdown
    assert "not torch's a = -0.75" in markdown
    grid = Image.open(out / 'grid.png')
    assert grid.size == (5 * 130 + 2, 18 + 3 * 130 + 2)  # LR, bicubic, MRRNet, EDSR, HR
    assert Image.open(out / 'attention' / 'MRRNet.png').size[0] == 4 * 130 + 2  # SR + three blocks
    assert not (out / 'attention' / 'EDSR.png').exists()
    assert len(os.listdir(out / 'sr' / 'MRRNet')) == 3
    assert '| bicubic |' in stdout and 'data-method="EDSR"' in (out / 'index.html').read_text()
    check_intervals(out, ['bicubic', 'MRRNet', 'EDSR'], 'bca', 20)

    again = run_benchmark(out, face_pairs, checkpoints, lpips_backbones, '--ci', 'percentile', '--ci-level', '0.9')
    assert again.count('reusing') == 3  # intervals come from the stored per-face values: nothing recomputed
    check_intervals(out, ['bicubic', 'MRRNet', 'EDSR'], 'percentile', 20, level=0.9)
    run_benchmark(out, face_pairs, checkpoints, lpips_backbones, '--ci', 'none')
    with open(out / 'results.csv') as f:
        assert not any(key.endswith('_low') for key in next(csv.reader(f)))
    assert not (out / 'differences.csv').exists() and 'Paired differences' not in (out / 'results.md').read_text()
    forced = run_benchmark(out, face_pairs, checkpoints, lpips_backbones, '--force', '--save-images', '--weights-dir',
                           random_facexlib_weights)  # random facexlib weights: plumbing of the face columns
    assert 'reusing' not in forced and len(os.listdir(out / 'sr' / 'EDSR')) == 20
    with open(out / 'results.csv') as f:
        forced_rows = {row['method']: row for row in csv.DictReader(f)}
    assert all(float(forced_rows[m]['landmark_distance']) >= 0 for m in forced_rows)
    assert all(-1 <= float(forced_rows[m]['identity']) <= 1 for m in forced_rows)
    assert all(float(forced_rows[m]['fid']) > 0 for m in forced_rows)  # random Inception weights: plumbing
    assert 'Empty columns' not in (out / 'results.md').read_text()
    record = json.loads((out / 'methods' / 'MRRNet.json').read_text())
    assert record['results']['psnr_dic'] == pytest.approx(float(rows['MRRNet']['psnr_dic']))

    protocols = run_benchmark(out, face_pairs, checkpoints, lpips_backbones, '--protocol', 'dic,sparnet,sfmnet',
                              '--published', 'CelebA')
    assert 'reusing' not in protocols  # other columns: recomputed
    with open(out / 'results.csv') as f:
        bicubic = next(row for row in csv.DictReader(f) if row['method'] == 'bicubic')
    assert float(bicubic['psnr_dic']) == pytest.approx(float(rows['bicubic']['psnr_dic']))  # same protocol
    assert len({bicubic['psnr_dic'], bicubic['psnr_sparnet'], bicubic['psnr_sfmnet']}) == 3  # they differ
    assert 'psnr_basicsr' not in bicubic
    markdown = (out / 'results.md').read_text()
    assert 'Face-SPARNet protocol' in markdown and 'SFMNet protocol' in markdown
    assert 'Published CelebA numbers (quoted, not measured here' in markdown
    assert '| MRRNet | 27.27 | 0.7873 |  |' in markdown
    bad = subprocess.run([sys.executable, '-m', 'mrr_plugin.benchmark', '--hr', face_pairs[0], '--lr', face_pairs[1],
                          '--out', str(tmp_path / 'bad'), '--protocol', 'dic,psnr'], capture_output=True, text=True)
    assert bad.returncode == 1 and 'known protocols are dic, sparnet, sfmnet, basicsr' in bad.stderr
    assert not (tmp_path / 'bad').exists()


def check_intervals(out, names, method, count, level=0.95):
    """results.csv's intervals and differences.csv's paired intervals and p-values are scipy's bootstrap (same draws:
    default_rng(0)) and Wilcoxon test on the per-face values each method's record stores."""
    import numpy as np
    from scipy import stats
    per_face = {name: json.loads((out / 'methods' / f'{name}.json').read_text())['per_face'] for name in names}
    assert all(len(values) == count for faces in per_face.values() for values in faces.values())
    with open(out / 'results.csv') as f:
        rows = {row['method']: row for row in csv.DictReader(f)}
    for name in names:
        for key in ('psnr_dic', 'ssim_dic', 'lpips'):
            values = np.asarray(per_face[name][key])
            assert float(rows[name][key]) == pytest.approx(values.mean(), rel=1e-9)
            reference = stats.bootstrap((values,), np.mean, n_resamples=2000, method=method, confidence_level=level,
                                        rng=np.random.default_rng(0)).confidence_interval
            assert (float(rows[name][f'{key}_low']), float(rows[name][f'{key}_high'])) == pytest.approx(
                tuple(reference), rel=1e-9)
    with open(out / 'differences.csv') as f:
        differences = list(csv.DictReader(f))
    assert {(d['a'], d['b']) for d in differences} == {(a, b) for j, a in enumerate(names) for b in names[:j]}
    for d in differences:
        a, b = np.asarray(per_face[d['a']][d['metric']]), np.asarray(per_face[d['b']][d['metric']])
        assert float(d['a_minus_b']) == pytest.approx((a - b).mean(), abs=1e-9)
        assert float(d['wilcoxon_p']) == pytest.approx(stats.wilcoxon(a - b).pvalue, rel=1e-9)
        reference = stats.bootstrap((a, b), lambda x, y, axis=-1: np.mean(x - y, axis=axis), paired=True,
                                    n_resamples=2000, method=method, confidence_level=level,
                                    rng=np.random.default_rng(0)).confidence_interval
        assert (float(d['low']), float(d['high'])) == pytest.approx(tuple(reference), rel=1e-9, abs=1e-12)
        assert (d['interval_excludes_zero'] == 'True') == (float(d['low']) > 0 or float(d['high']) < 0)
    markdown = (out / 'results.md').read_text()
    assert '## Paired differences (A - B over the same 20 faces)' in markdown and '| MRRNet - bicubic |' in markdown
    assert f'{level:.0%} {"BCa" if method == "bca" else "percentile"} bootstrap interval' in markdown


def test_bad_method_is_one_clear_error(face_pairs, tmp_path):
    hr, lr, _ = face_pairs
    for spec, message in [('X=missing.yml', 'does not exist'), ('X=nothing.pth@MRRNet', 'does not exist'),
                          ('X=model.pth', 'CHECKPOINT@ARCH'), ('bicubic=a.pth@EDSR', 'always included'),
                          ('X=a.yml.pth@EDSR:upscale=8', 'does not exist'),
                          ('../../escaped=a.pth@EDSR', 'names files under --out'),
                          ('..=a.pth@EDSR', 'names files under --out')]:
        result = subprocess.run([sys.executable, '-m', 'mrr_plugin.benchmark', '--hr', hr, '--lr', lr, '--out',
                                 str(tmp_path / 'out'), '--method', spec], capture_output=True, text=True, timeout=300)
        assert result.returncode == 1 and message in result.stderr and 'Traceback' not in result.stderr
        assert not (tmp_path / 'out').exists()


def test_real_faces_without_ground_truth_get_niqe_only(real_lr_faces, checkpoints, tmp_path):
    out = tmp_path / 'real'
    result = subprocess.run([sys.executable, '-m', 'mrr_plugin.benchmark', '--lr', real_lr_faces, '--out', str(out),
                             '--limit', '12', '--timing-runs', '1', '--timing-batch', '2', '--grid-faces', '2',
                             '--method', f'MRRNet={checkpoints / "test_MRRNet.yml"}'],
                            env=python_env(out), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with open(out / 'results.csv') as f:
        rows = {row['method']: row for row in csv.DictReader(f)}
    assert list(rows) == ['bicubic', 'MRRNet'] and all(float(row['niqe']) > 0 for row in rows.values())
    assert 'psnr_dic' not in rows['bicubic'] and 'lpips' not in rows['bicubic']  # no ground truth: no such columns
    assert 'real faces without ground truth' in (out / 'results.md').read_text()
    assert Image.open(out / 'grid.png').size == (3 * 130 + 2, 18 + 2 * 130 + 2)  # LR, bicubic, MRRNet: no HR
    page = (out / 'index.html').read_text()  # the report page without ground truth: no HR column, no intervals
    assert 'data-column="HR"' not in page and 'data-column="MRRNet"' in page and 'bootstrap' not in page
