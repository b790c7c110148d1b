"""SFMNet's Fourier losses (Wang et al., CVPR 2023, eq. 9-10): L1 between the amplitudes and between the phases of
the 2-D real FFTs of the frequency branch's face and the HR face (their ``AMPLoss`` / ``PhaLoss`` in
``main_two.py``, ``--fft_weight 0.01``)."""
import torch
from basicsr.utils.registry import LOSS_REGISTRY
from torch import nn
from torch.nn import functional as F


@LOSS_REGISTRY.register()
class FourierLoss(nn.Module):
    """``(amplitude_weight * L1(|F(x)|, |F(y)|), phase_weight * L1(arg F(x), arg F(y)))`` with ``F = rfft2``
    (norm 'backward'), always in float32 (float64 for float64 inputs): the FFT has no bfloat16 kernel and the
    phase of a rounded spectrum is noise.

    Args:
        amplitude_weight (float): Weight of the amplitude term (their ``fft_weight``, 0.01).
        phase_weight (float): Weight of the phase term (their ``fft_weight``, 0.01).
    Forward:
        x, y (Tensor): (N, C, H, W) images (prediction, target). Returns the two weighted terms.
    """

    def __init__(self, amplitude_weight=0.01, phase_weight=0.01):
        super().__init__()
        self.amplitude_weight = amplitude_weight
        self.phase_weight = phase_weight

    def forward(self, x, y):
        with torch.autocast(x.device.type, enabled=False):
            dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
            x_spectrum = torch.fft.rfft2(x.to(dtype), norm='backward')
            y_spectrum = torch.fft.rfft2(y.to(dtype), norm='backward')
            amplitude = F.l1_loss(x_spectrum.abs(), y_spectrum.abs())
            phase = F.l1_loss(x_spectrum.angle(), y_spectrum.angle())
        return self.amplitude_weight * amplitude, self.phase_weight * phase
