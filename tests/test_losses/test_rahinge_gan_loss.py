import pytest
import torch
from basicsr.losses import build_loss
from basicsr.losses.gan_loss import GANLoss

from mrr_plugin.archs.mrr_discriminator_arch import MRRPatchDiscriminator
from mrr_plugin.losses.rahinge_gan_loss import RaHingeGANLoss


def test_matches_equations_8_and_9_by_hand():
    real = torch.tensor([[0.5, -0.2], [0.9, 0.1]])
    fake = torch.tensor([[0.3, 0.4], [-0.6, 0.0]])
    mean_real, mean_fake = real.mean().item(), fake.mean().item()  # 0.325, 0.025

    def hinge(values):
        return sum(max(0.0, v) for v in values) / len(values)

    expected_d = (hinge([1 - (r - mean_fake) for r in real.flatten().tolist()]) +
                  hinge([1 + (f - mean_real) for f in fake.flatten().tolist()]))
    expected_g = (hinge([1 + (r - mean_fake) for r in real.flatten().tolist()]) +
                  hinge([1 - (f - mean_real) for f in fake.flatten().tolist()]))
    paper = RaHingeGANLoss(loss_weight=1.0, average_terms=False)
    assert paper(real, fake, is_disc=True).item() == pytest.approx(expected_d)
    assert paper(real, fake, is_disc=False).item() == pytest.approx(expected_g)
    authors = build_loss({'type': 'RaHingeGANLoss', 'loss_weight': 0.01})
    assert authors(real, fake, is_disc=False).item() == pytest.approx(0.01 * expected_g / 2)
    assert authors(real, fake, is_disc=True).item() == pytest.approx(expected_d / 2)  # D loss is never weighted


def test_generator_receives_a_nonzero_adversarial_gradient():
    torch.manual_seed(0)
    net_d = MRRPatchDiscriminator()
    real = torch.rand(2, 3, 128, 128)
    fake = torch.rand(2, 3, 128, 128, requires_grad=True)
    loss = RaHingeGANLoss()(net_d(real).detach(), net_d(fake), is_disc=False)
    loss.backward()
    assert fake.grad.abs().sum() > 0

    # ESRGANModel's way with BasicSR's hinge loss: -mean(real - mean(fake)) - mean(fake - mean(real)) == 0
    fake.grad = None
    hinge = GANLoss('hinge', loss_weight=1.0)
    real_pred, fake_pred = net_d(real).detach(), net_d(fake)
    esrgan_style = (hinge(real_pred - fake_pred.mean(), False, is_disc=False) +
                    hinge(fake_pred - real_pred.mean(), True, is_disc=False)) / 2
    esrgan_style.backward()
    assert fake.grad.abs().max() < 1e-6
