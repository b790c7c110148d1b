import numpy as np
import pytest
import torch
from PIL import Image

from mrr_plugin.metrics.fid_metric import (FID_WEIGHTS_FILE, feature_statistics, fid_of_statistics, inception_features,
                                           load_fid_inception)


def test_missing_weights_are_one_sentence_and_nothing_is_downloaded(tmp_path, monkeypatch):
    monkeypatch.setenv('MRR_PLUGIN_ROOT', str(tmp_path))
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))
    with pytest.raises(FileNotFoundError, match=f'FID needs {FID_WEIGHTS_FILE}.*put it in {tmp_path}.*nothing is '):
        load_fid_inception(str(tmp_path))


def test_fid_of_a_set_with_itself_is_zero_and_grows_with_degradation(random_facexlib_weights, dev_faces):
    import os.path as osp
    inception = load_fid_inception(random_facexlib_weights)
    hr, _, names = dev_faces
    faces = [np.asarray(Image.open(osp.join(hr, name)).convert('RGB')) for name in names[:24]]
    blurred = [np.asarray(Image.fromarray(f).resize((16, 16), Image.BICUBIC).resize((128, 128), Image.BICUBIC))
               for f in faces]
    features = inception_features(faces, inception, batch_size=10)
    assert features.shape == (24, 2048) and np.isfinite(features).all()
    real = feature_statistics(features)
    scale = float(np.trace(real[1]))  # random weights: features of any magnitude, so compare with the spread
    assert abs(fid_of_statistics(real, real)) < 1e-4 * scale  # float64 cancellation of 2048 eigenvalues
    other = feature_statistics(inception_features(blurred, inception, batch_size=10))
    assert fid_of_statistics(other, real) > 0.1 * scale
    # batching does not change the features beyond float reordering
    np.testing.assert_allclose(inception_features(faces[:5], inception, batch_size=2), features[:5], rtol=1e-4,
                               atol=1e-5 * float(np.abs(features).max()))


def test_fid_equals_basicsr_calculate_fid_where_that_converges():
    from basicsr.metrics.fid import calculate_fid
    rng = np.random.default_rng(0)
    first = feature_statistics(rng.normal(size=(400, 16)) @ rng.normal(size=(16, 16)))
    second = feature_statistics(rng.normal(0.3, 1.2, size=(300, 16)) @ rng.normal(size=(16, 16)))
    assert fid_of_statistics(first, second) == pytest.approx(float(calculate_fid(*first, *second)), rel=1e-8)
    # 1-d by hand: (m1 - m2)^2 + s1 + s2 - 2 sqrt(s1 s2)
    by_hand = (1.0 - 3.0)**2 + 4.0 + 9.0 - 2 * 6.0
    assert fid_of_statistics((np.array([1.0]), np.array([[4.0]])), (np.array([3.0]), np.array([[9.0]]))) == \
        pytest.approx(by_hand)
