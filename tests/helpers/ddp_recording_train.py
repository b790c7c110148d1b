"""The real ``train_pipeline`` under torchrun, with subclasses that record what each rank did (for tests only).

Each rank appends the keys it loaded to ``$MRR_TEST_RECORD_DIR/keys_rank<r>.txt`` and, at every save, writes its
own network weights to ``weights_rank<r>_iter<i>.pth`` (BasicSR saves checkpoints from rank 0 only).
"""
import os

import mrr_plugin  # noqa: F401  (patches basicsr: must come before any basicsr import in a script)

# isort: split
import torch
from basicsr.utils.registry import DATASET_REGISTRY, MODEL_REGISTRY

from mrr_plugin.data.face_bicubic_dataset import FaceBicubicDataset
from mrr_plugin.models.degradation_gan_model import DegradationGANModel
from mrr_plugin.models.face_sr_model import FaceSRModel
from mrr_plugin.models.mrrgan_model import MRRGANModel
from mrr_plugin.models.sparnethd_model import SPARNetHDModel
from mrr_plugin.pipelines.train_pipeline import train_pipeline
from mrr_plugin.utils import project_root

RECORD_DIR = os.environ.get('MRR_TEST_RECORD_DIR', '.')


def rank():
    return int(os.environ.get('RANK', 0))


@DATASET_REGISTRY.register()
class KeyRecordingFaceDataset(FaceBicubicDataset):

    def __getitem__(self, index):
        item = super().__getitem__(index)
        with open(os.path.join(RECORD_DIR, f'keys_rank{rank()}.txt'), 'a') as f:
            f.write(f'{item["gt_path"]}\n')
        return item


class WeightRecordingMixin:

    def save(self, epoch, current_iter):
        super().save(epoch, current_iter)
        names = ('net_g', 'net_d', 'net_h2l', 'net_d_lr', 'net_d_hr')
        nets = {name[len('net_'):]: getattr(self, name) for name in names if getattr(self, name, None) is not None}
        weights = {name: self.get_bare_model(net).state_dict() for name, net in nets.items()}
        torch.save(weights, os.path.join(RECORD_DIR, f'weights_rank{rank()}_iter{current_iter}.pth'))


@MODEL_REGISTRY.register()
class RecordingFaceSRModel(WeightRecordingMixin, FaceSRModel):
    pass


@MODEL_REGISTRY.register()
class RecordingMRRGANModel(WeightRecordingMixin, MRRGANModel):
    pass


@MODEL_REGISTRY.register()
class RecordingSPARNetHDModel(WeightRecordingMixin, SPARNetHDModel):
    pass


@MODEL_REGISTRY.register()
class RecordingDegradationGANModel(WeightRecordingMixin, DegradationGANModel):
    pass


if __name__ == '__main__':
    train_pipeline(project_root())
