import pytest
import torch
from basicsr.losses import build_loss


def test_sum_over_layers_mean_over_scales_and_real_detached():
    loss = build_loss({'type': 'FeatureMatchingLoss', 'loss_weight': 10.0})
    fake = [[torch.zeros(1, 2, 4, 4, requires_grad=True), torch.zeros(1, 2, 2, 2, requires_grad=True)],
            [torch.zeros(1, 2, 2, 2, requires_grad=True)]]
    real = [[torch.ones(1, 2, 4, 4, requires_grad=True), torch.full((1, 2, 2, 2), 3.0, requires_grad=True)],
            [torch.full((1, 2, 2, 2), 2.0, requires_grad=True)]]
    value = loss(fake, real)
    assert value.item() == pytest.approx(10 * ((1 + 3) + 2) / 2)
    value.backward()
    assert fake[0][0].grad is not None and real[0][0].grad is None


def test_mismatched_scales_are_refused():
    loss = build_loss({'type': 'FeatureMatchingLoss'})
    with pytest.raises(ValueError):
        loss([[torch.zeros(1)]], [])
