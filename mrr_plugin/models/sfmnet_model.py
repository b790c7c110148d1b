"""SFMNet's training step (Wang et al., CVPR 2023, eq. 11; their ``main_two.py``)."""
from basicsr.losses import build_loss
from basicsr.utils.registry import MODEL_REGISTRY

from mrr_plugin.models.face_sr_model import FaceSRModel


@MODEL_REGISTRY.register()
class SFMNetModel(FaceSRModel):
    """FaceSRModel whose step also trains SFMNet's frequency branch:
    ``L = L1(img_out, HR) + L1(img_fre, HR) + w (L_amp(img_fre, HR) + L_pha(img_fre, HR))``.

    ``train.pixel_opt`` is the L1 of both faces (logged ``l_pix`` and ``l_pix_fre``), ``train.fourier_opt`` the
    :class:`~mrr_plugin.losses.fourier_loss.FourierLoss` (``l_fft_amp``, ``l_fft_pha``; float32 also under bf16).
    The network must return ``(img_out, img_fre)`` for ``all_outputs=True`` (``SFMNet``).
    """

    def init_training_settings(self):
        fourier_opt = self.opt['train'].get('fourier_opt')
        self.cri_fourier = build_loss(fourier_opt).to(self.device) if fourier_opt else None
        super().init_training_settings()  # after: the guard and the precision hooks see every loss

    def generator_losses(self, loss_dict, prefix='l_'):
        sr, frequency_face = self.net_g(self.lq, all_outputs=True)
        self.output, frequency_face = sr.float(), frequency_face.float()
        total = self.content_losses(loss_dict, prefix=prefix)
        if self.cri_pix:
            loss_dict[f'{prefix}pix_fre'] = self.cri_pix(frequency_face, self.gt)
            total = total + loss_dict[f'{prefix}pix_fre']
        if self.cri_fourier:
            loss_dict[f'{prefix}fft_amp'], loss_dict[f'{prefix}fft_pha'] = self.cri_fourier(frequency_face, self.gt)
            total = total + loss_dict[f'{prefix}fft_amp'] + loss_dict[f'{prefix}fft_pha']
        return total
