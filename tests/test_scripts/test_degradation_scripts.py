"""scripts/degrade_faces.py (H2L as a data generator) and scripts/compare_degradations.py on real faces."""
import os

import numpy as np
import pytest
import torch
import yaml
from basicsr.archs import build_network
from basicsr.data import build_dataset
from PIL import Image

from tests.test_scripts.test_prepare_scripts import lmdb_image, lmdb_keys, run

pytestmark = pytest.mark.slow

H2L = {'type': 'HighToLowGenerator', 'hr_size': 128, 'scale': 8, 'num_feat': 8, 'num_units': 1}


@pytest.fixture
def h2l_files(tmp_path):
    """A training option file with network_h2l and an (untrained) net_h2l checkpoint in BasicSR's format."""
    options = tmp_path / 'train_dg.yml'
    options.write_text(yaml.safe_dump({'name': 'dg', 'network_h2l': H2L}))
    torch.manual_seed(0)
    checkpoint = tmp_path / 'net_h2l_latest.pth'
    torch.save({'params': build_network(H2L).state_dict()}, checkpoint)
    return str(options), str(checkpoint)


def test_degrade_faces_writes_a_reproducible_paired_lmdb(face_lmdbs, h2l_files, tmp_path):
    options, checkpoint = h2l_files
    out = tmp_path / 'H2L'
    log = run('degrade_faces.py', '--opt', options, '--h2l', checkpoint, '--hr', face_lmdbs['train_hr'], '--out', out,
              '--limit', '6')
    assert 'train: 6 written' in log
    keys = lmdb_keys(out / 'train_HR.lmdb')
    assert keys == lmdb_keys(out / 'train_LR.lmdb') and len(keys) == 6
    lr, hr = lmdb_image(out / 'train_LR.lmdb', keys[0]), lmdb_image(out / 'train_HR.lmdb', keys[0])
    assert not np.array_equal(lr, np.asarray(Image.fromarray(hr).resize((16, 16), Image.BICUBIC)))  # learned LR
    dataset = build_dataset({'name': 'h2l', 'type': 'PairedImageDataset', 'dataroot_gt': str(out / 'train_HR.lmdb'),
                             'dataroot_lq': str(out / 'train_LR.lmdb'), 'io_backend': {'type': 'lmdb'},
                             'phase': 'val', 'scale': 8})
    assert dataset[0]['lq'].shape == (3, 16, 16) and dataset[0]['gt'].shape == (3, 128, 128)
    again = tmp_path / 'H2L_again'
    run('degrade_faces.py', '--opt', options, '--h2l', checkpoint, '--hr', face_lmdbs['train_hr'], '--out', again,
        '--limit', '2', '--format', 'png')
    np.testing.assert_array_equal(np.asarray(Image.open(again / 'train' / 'LR' / f'{keys[0]}.png')), lr)
    assert 'does not exist' in run('degrade_faces.py', '--opt', options, '--h2l', 'missing.pth', '--hr',
                                   face_lmdbs['train_hr'], '--out', again, ok=False)


def test_compare_degradations_grid_stats_and_real_sr(face_pairs, real_lr_faces, h2l_files, tmp_path):
    options, checkpoint = h2l_files
    torch.manual_seed(1)
    sr_checkpoint = tmp_path / 'mrrnet.pth'
    torch.save({'params': build_network({'type': 'MRRNet', 'min_ch': 8, 'max_ch': 16, 'res_depth': 1}).state_dict()},
               sr_checkpoint)
    out = tmp_path / 'compare'
    log = run('compare_degradations.py', '--real-lr', real_lr_faces, '--hr', face_pairs[0], '--opt', options,
              '--h2l', checkpoint, '--out', out, '--grid-faces', '4', '--stats-count', '24',
              '--sr', f'bicubic-trained={sr_checkpoint}@MRRNet:min_ch=8,max_ch=16,res_depth=1',
              '--sr', f'H2L-trained={sr_checkpoint}@MRRNet:min_ch=8,max_ch=16,res_depth=1')
    assert sorted(os.listdir(out)) == ['degradation_grid.png', 'degradation_stats.csv', 'degradation_stats.md',
                                       'real_sr_grid.png']
    with open(out / 'degradation_stats.csv') as f:
        rows = [line.split(',') for line in f.read().splitlines()]
    assert [row[0] for row in rows[1:]] == ['real LR', 'H2L LR', 'bicubic LR']
    match = rows[0].index('colour hist. match')
    assert float(rows[1][match]) == pytest.approx(1.0)  # real vs itself
    assert 0 < float(rows[3][match]) < 1
    grid = np.asarray(Image.open(out / 'real_sr_grid.png'))
    assert grid.shape[1] == 3 * (128 + 2) + 2 and 'real LR' in log
