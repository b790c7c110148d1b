"""DICGAN's identity-feature loss (Ma et al., CVPR 2020, eq. 9): L1 between the Light CNN features of the SR face
and of the HR face, the extractor pretrained for face recognition and frozen (their ``LightCNN_feature.pth``)."""
from basicsr.utils.registry import LOSS_REGISTRY
from torch import nn
from torch.nn import functional as F

from mrr_plugin.archs.lightcnn_arch import LightCNNFeatures
from mrr_plugin.archs.reference_checkpoint import unwrap_state_dict
from mrr_plugin.utils import local_weights
from mrr_plugin.utils.checkpoint_file import load_checkpoint

LIGHTCNN_FILE = 'LightCNN_feature.pth'


def lightcnn_weights_path(path=None):
    """The Light CNN feature weights: ``path`` if given, else torch hub's cache; never downloaded."""
    return local_weights(LIGHTCNN_FILE, path, "DICGAN's identity-feature loss (their pretrained Light CNN)",
                         "from the models folder of DIC's release, or set feature_opt.weights_path to where it is")


@LOSS_REGISTRY.register()
class LightCNNFeatureLoss(nn.Module):
    """``loss_weight * L1(F(SR), F(HR))`` with ``F`` the frozen Light CNN trunk on faces minus DIC's mean.

    Args:
        weights_path (str): Their ``LightCNN_feature.pth`` (keys ``features.*``, maybe ``module.``-prefixed).
        loss_weight (float): Their ``feature`` weight (0.1).
    """

    def __init__(self, weights_path=None, loss_weight=0.1):
        super().__init__()
        self.loss_weight = loss_weight
        self.extractor = LightCNNFeatures()
        path = lightcnn_weights_path(weights_path)
        state = load_checkpoint(path, what='feature_opt.weights_path')
        try:
            self.extractor.load_state_dict(unwrap_state_dict(state), strict=True)
        except (RuntimeError, ValueError) as error:
            raise ValueError(f'{path} is not a Light CNN feature extractor ({str(error).splitlines()[0]}).') from None
        self.extractor.eval()
        for parameter in self.extractor.parameters():
            parameter.requires_grad = False

    def train(self, mode=True):
        super().train(mode)
        self.extractor.eval()  # frozen: never in training mode
        return self

    def forward(self, sr, hr):
        return self.loss_weight * F.l1_loss(self.extractor(sr), self.extractor(hr).detach())
