import pytest
import torch
from basicsr.losses import build_loss
from torch.nn import functional as F

from mrr_plugin.losses.face_perceptual_loss import MRRGAN_LAYER_WEIGHTS, FacePerceptualLoss


def test_missing_weights_fail_at_start_with_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))
    with pytest.raises(FileNotFoundError) as error:
        build_loss({'type': 'FacePerceptualLoss'})
    message = str(error.value)
    assert message.count('.') >= 1 and '\n' not in message
    assert f'needs vgg19-dcbb9e9d.pth: put it at {tmp_path}/hub/checkpoints/vgg19-dcbb9e9d.pth' in message
    with pytest.raises(FileNotFoundError, match='/nowhere/vgg19.pth'):
        FacePerceptualLoss(vgg_weights_path='/nowhere/vgg19.pth')


def test_loads_local_weights_without_any_download(random_vgg19_weights, monkeypatch):
    import torch.hub
    monkeypatch.setattr(torch.hub, 'load_state_dict_from_url',
                        lambda *a, **k: pytest.fail('the perceptual loss tried to download weights'))
    loss = build_loss({'type': 'FacePerceptualLoss', 'vgg_weights_path': random_vgg19_weights,
                       'perceptual_weight': 0.01})
    reference = torch.load(random_vgg19_weights)
    torch.testing.assert_close(loss.vgg.vgg_net.conv1_1.weight, reference['features.0.weight'])
    assert list(loss.vgg.layer_name_list) == ['relu1_2', 'relu2_2', 'relu3_4', 'relu4_4', 'conv5_4']

    torch.manual_seed(0)
    x, y = torch.rand(2, 3, 128, 128), torch.rand(2, 3, 128, 128)
    same, _ = loss(x, x)
    assert same.item() == 0
    value, style = loss(x, y)
    assert style is None
    # eq. 10 by hand: weighted L1 of features of the 224x224 bilinear resizes, times lambda_per
    features_x = loss.vgg(F.interpolate(x, size=(224, 224), mode='bilinear', align_corners=False))
    features_y = loss.vgg(F.interpolate(y, size=(224, 224), mode='bilinear', align_corners=False))
    expected = 0.01 * sum(w * F.l1_loss(features_x[k], features_y[k]) for k, w in MRRGAN_LAYER_WEIGHTS.items())
    torch.testing.assert_close(value, expected)
