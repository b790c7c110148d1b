"""VGG19 perceptual loss as the MRRGAN authors computed it (paper eq. 10), with weights from local disk only."""
import contextlib

from basicsr.archs import vgg_arch
from basicsr.losses.basic_loss import PerceptualLoss
from basicsr.utils.registry import LOSS_REGISTRY
from torch.nn import functional as F

from mrr_plugin.utils import local_weights

VGG19_FILE = 'vgg19-dcbb9e9d.pth'
MRRGAN_LAYER_WEIGHTS = {'relu1_2': 1 / 32, 'relu2_2': 1 / 16, 'relu3_4': 1 / 8, 'relu4_4': 1 / 4, 'conv5_4': 1.0}


def vgg19_weights_path(path=None):
    """The VGG19 ImageNet weights to use: ``path`` if given, else torch hub's cache; never downloaded."""
    return local_weights(VGG19_FILE, path, "The perceptual loss (torchvision's ImageNet VGG19)",
                         'or set perceptual_opt.vgg_weights_path to where it is')


@contextlib.contextmanager
def _basicsr_vgg_weights(path):
    """BasicSR's VGGFeatureExtractor reads ``VGG_PRETRAIN_PATH`` and downloads when it is absent: point it at ours."""
    previous = vgg_arch.VGG_PRETRAIN_PATH
    vgg_arch.VGG_PRETRAIN_PATH = path
    try:
        yield
    finally:
        vgg_arch.VGG_PRETRAIN_PATH = previous


@LOSS_REGISTRY.register()
class FacePerceptualLoss(PerceptualLoss):
    """Eq. 10: sum over VGG19 layers of ``w_l * L1(phi_l(resize(SR)), phi_l(resize(HR)))`` on ImageNet-normalised input.

    Defaults are MRRGAN's: relu1_2, relu2_2, relu3_4, relu4_4 and conv5_4 (pre-activation) with weights 1/32, 1/16,
    1/8, 1/4, 1, inputs bilinearly resized to 224x224. BasicSR's ``PerceptualLoss`` does the rest; the forward
    returns ``(perceptual, style)`` like it.

    Args:
        layer_weights (dict | None): VGG19 layer -> weight (SPARNetHD uses all 1). Default: MRRGAN's.
        vgg_weights_path (str | None): Local ``vgg19-dcbb9e9d.pth``; default torch hub's cache.
        resize_to (int | None): Bilinear resize before VGG (224) or None to keep the input size.
        perceptual_weight (float): lambda_per of eq. 11 (0.01 in the paper).
        range_norm (bool): Inputs in [-1, 1] instead of [0, 1].
        criterion (str): 'l1' (default), 'l2' or 'fro'.
    """

    def __init__(self,
                 layer_weights=None,
                 vgg_weights_path=None,
                 resize_to=224,
                 perceptual_weight=1.0,
                 range_norm=False,
                 criterion='l1'):
        with _basicsr_vgg_weights(vgg19_weights_path(vgg_weights_path)):
            super().__init__(
                dict(layer_weights or MRRGAN_LAYER_WEIGHTS),
                vgg_type='vgg19',
                use_input_norm=True,
                range_norm=range_norm,
                perceptual_weight=perceptual_weight,
                style_weight=0.,
                criterion=criterion)
        self.resize_to = resize_to

    def forward(self, x, gt):
        if self.resize_to:
            size = (self.resize_to, self.resize_to)
            x = F.interpolate(x, size=size, mode='bilinear', align_corners=False)
            gt = F.interpolate(gt, size=size, mode='bilinear', align_corners=False)
        return super().forward(x, gt)
