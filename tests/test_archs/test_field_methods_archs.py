"""WFEN, SFMNet and DIC compute their authors' generators (committed vectors everywhere; their code itself where a
checkout is at hand), keep no state between calls, run in float64, and load the authors' checkpoints."""
import subprocess
import sys

import pytest
import torch
from basicsr.archs import build_network

from mrr_plugin.archs.dic_arch import DIC, merge_part_heatmaps
from mrr_plugin.archs.reference_checkpoint import convert_reference_state_dict, drop_authors_constants
from mrr_plugin.archs.wfen_arch import HAAR_FILTERS, haar_transform, inverse_haar_transform
from tests.conftest import PROJECT_ROOT
from tests.helpers.authors_checkout import assert_close_to, compare_with_authors
from tests.helpers.authors_reference import FOLDER, load_committed, read_keys

ARCHS = {'WFEN': 'wfen_g', 'SFMNet': 'sfmnet_g', 'DIC': 'dic_g'}
# ours (theirs minus what drop_authors_constants removes: WFEN's 15,360 fixed Haar values, SFMNet's 14 unused
# attention layers of 18,120 parameters each)
PARAMETERS = {'WFEN': 6_780_519, 'SFMNet': 8_545_942, 'DIC': 21_803_849}
# float32 vs float64 on freshly initialised weights, relative to max |output| (measured over three seeds: WFEN
# 1.2e-4, SFMNet 7.2e-3 (the Fourier phase), DIC 7e-6)
FLOAT32_DRIFT = {'WFEN': 1e-3, 'SFMNet': 5e-2, 'DIC': 1e-4}


def count_parameters(net):
    return sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize('arch', sorted(ARCHS))
def test_registered_with_the_authors_keys_and_sizes(arch):
    net = build_network({'type': arch})
    assert count_parameters(net) == PARAMETERS[arch]
    authors_keys = read_keys(f'{FOLDER}/{ARCHS[arch]}_state_dict.tsv')
    kept = drop_authors_constants(arch, {key: torch.zeros(shape) for key, shape in authors_keys.items()
                                         if not key.endswith('haar_weights')})
    assert {k: tuple(v.shape) for k, v in net.state_dict().items()} == {k: tuple(v.shape) for k, v in kept.items()}


@pytest.mark.parametrize('arch', sorted(ARCHS))
def test_computes_the_committed_output_of_the_authors_code(arch):
    """From the 16x16 LR face in [0, 1] (our upsampling inside) to their SR face, in float64; SFMNet's second face
    and DIC's last heatmaps too."""
    reference = load_committed(ARCHS[arch])
    net = build_network({'type': arch}).double().eval()
    net.load_state_dict(drop_authors_constants(arch, reference['state_dict']), strict=True)
    with torch.no_grad():
        if arch == 'WFEN':
            outputs = {'sr': net(reference['input'].double())}
        elif arch == 'SFMNet':
            outputs = dict(zip(('sr', 'fre'), net(reference['input'].double(), all_outputs=True)))
        else:
            faces, heatmaps = net(reference['input'].double(), all_outputs=True)
            outputs = {'sr': faces[-1], 'heatmap': heatmaps[-1]}
    assert set(outputs) == set(reference['outputs'])
    for key, expected in reference['outputs'].items():
        assert_close_to(outputs[key], expected.double())


@pytest.mark.parametrize('arch', sorted(ARCHS))
def test_computes_the_authors_code_on_fresh_random_weights(arch):
    got, expected = compare_with_authors(arch, build_network({'type': arch}), seed=7)
    if arch == 'WFEN':
        assert_close_to(got, expected['sr'])
    elif arch == 'SFMNet':
        assert_close_to(got[0], expected['sr'])
        assert_close_to(got[1], expected['fre'])
    else:
        for ours, theirs in zip(got[0], expected['steps'], strict=True):
            assert_close_to(ours, theirs)
        for ours, theirs in zip(got[1], expected['heatmaps'], strict=True):
            assert_close_to(ours, theirs)


@pytest.mark.parametrize('arch', sorted(ARCHS))
def test_faces_are_independent_of_batch_and_call_order(arch):
    """No recurrent state survives a call (DIC's ``last_hidden`` pattern): a face restored alone, after another
    face, or inside a batch gives the same result (in float64: SFMNet's Fourier phase moves float32 results between
    batch sizes by far more than the arithmetic's precision, as the authors' own code does); float32 runs too."""
    torch.manual_seed(0)
    net = build_network({'type': arch}).eval()
    lr = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        single = net(lr)
        net.double()
        batch = net(lr.double())
        first_alone, second_alone, first_again = net(lr[:1].double()), net(lr[1:].double()), net(lr[:1].double())
    assert batch.shape == (2, 3, 128, 128) and batch.dtype == torch.float64 and single.dtype == torch.float32
    torch.testing.assert_close(first_alone, first_again, rtol=0, atol=0)
    assert (torch.cat([first_alone, second_alone]) - batch).abs().max() <= 1e-9 * batch.abs().max()
    assert (single - batch).abs().max() <= FLOAT32_DRIFT[arch] * batch.abs().max()


def test_haar_transform_is_their_filter_bank_and_inverts():
    x = torch.randn(2, 5, 8, 6, dtype=torch.float64)
    filters = HAAR_FILTERS.double().repeat(5, 1, 1).unsqueeze(1)
    theirs = torch.nn.functional.conv2d(x, filters, stride=2, groups=5) / 4  # (N, 4C) interleaved per channel
    theirs = theirs.reshape(2, 5, 4, 4, 3).transpose(1, 2).reshape(2, 20, 4, 3)
    torch.testing.assert_close(haar_transform(x), theirs)
    torch.testing.assert_close(inverse_haar_transform(haar_transform(x)), x)


def test_dic_merges_landmark_heatmaps_into_five_parts():
    heatmaps = torch.zeros(1, 68, 4, 4)
    heatmaps[0, 36, 1, 1] = 2.0  # left eye
    heatmaps[0, 40, 2, 2] = 0.01  # left eye, below the 0.05 floor: divided by 0.05
    heatmaps[0, 50, 0, 0] = 3.0  # mouth
    merged = merge_part_heatmaps(heatmaps)
    assert merged.shape == (1, 5, 4, 4)
    assert merged[0, 0, 1, 1] == 1.0 and merged[0, 0, 2, 2] == pytest.approx(0.2) and merged[0, 3, 0, 0] == 1.0
    assert merged[0, [1, 2, 4]].abs().sum() == 0
    with pytest.raises(ValueError, match='5, 68 or 194'):
        merge_part_heatmaps(torch.zeros(1, 21, 4, 4))
    with pytest.raises(ValueError, match='x8'):
        DIC(upscale=4)


@pytest.mark.parametrize('arch', sorted(ARCHS))
def test_the_authors_checkpoint_files_convert(arch, tmp_path):
    """Their saved forms ('module.' prefixes, DIC's 'netG' dict; WFEN's Haar filters, SFMNet's unused layers)
    convert and load; the command prints the block to use."""
    state = load_committed(ARCHS[arch])['state_dict']
    saved = {f'module.{key}': value for key, value in state.items()}
    if arch == 'DIC':
        saved = {'netG': saved, 'step': 10}
    torch.save(saved, tmp_path / 'authors.pth')
    result = subprocess.run([sys.executable, f'{PROJECT_ROOT}/scripts/convert_reference_checkpoint.py', '--arch', arch,
                             str(tmp_path / 'authors.pth'), str(tmp_path / 'ours.pth')],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f'type: {arch}' in result.stdout and 'pretrain_network_g:' in result.stdout
    params = torch.load(tmp_path / 'ours.pth', weights_only=True)['params']
    build_network({'type': arch}).load_state_dict(params, strict=True)


def test_wfen_checkpoint_with_other_haar_filters_is_refused():
    state = dict(load_committed('wfen_g')['state_dict'])
    key = next(k for k in state if k.endswith('haar_weights'))
    state[key] = state[key] * 2
    with pytest.raises(ValueError, match='not the fixed Haar filter bank'):
        convert_reference_state_dict('WFEN', state)


def test_lightcnn_discriminator_computes_dicgans():
    """DICGAN's discriminator: committed score of their LightCNN_9Layers on faces minus their mean; the feature
    extractor is its trunk (their LightCNNFeatureExtractor keeps ``features.*``)."""
    from mrr_plugin.archs.lightcnn_arch import LightCNNFeatures
    reference = load_committed('dicgan_d')
    net = build_network({'type': 'LightCNNDiscriminator'}).double().eval()
    net.load_state_dict(reference['state_dict'], strict=True)
    with torch.no_grad():
        score = net(reference['input'].double())
    assert_close_to(score, reference['output'].double())
    trunk = LightCNNFeatures()
    trunk.load_state_dict({k: v for k, v in reference['state_dict'].items() if k.startswith('features.')})
    assert trunk(torch.rand(2, 3, 128, 128)).shape == (2, 128, 8, 8)


def test_lightcnn_discriminator_is_their_code_on_fresh_weights():
    from tests.helpers.authors_checkout import authors_checkout
    from tests.helpers.authors_reference import authors_code_module, seeded_state_dict
    authors_code = authors_code_module()
    folder = authors_checkout('DIC')
    theirs = authors_code.import_authors_module(folder, 'networks.modules.light_cnn').LightCNN_9Layers()
    state = seeded_state_dict({k: tuple(v.shape) for k, v in theirs.state_dict().items()}, seed=11)
    theirs.load_state_dict(state)
    ours = build_network({'type': 'LightCNNDiscriminator'})
    ours.load_state_dict(state, strict=True)
    faces = torch.rand(3, 3, 128, 128, generator=torch.Generator().manual_seed(11)).double()
    mean = torch.tensor(authors_code.DIC_RGB_MEAN, dtype=torch.float64).view(1, 3, 1, 1)
    with torch.no_grad():
        assert_close_to(ours.double()(faces), theirs.double()(faces - mean))
