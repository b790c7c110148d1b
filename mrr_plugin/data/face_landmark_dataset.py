"""HR faces with their landmarks: (LR, HR, landmark heatmaps) for DIC's training (Ma et al., CVPR 2020)."""
import numpy as np
import torch
from basicsr.utils.registry import DATASET_REGISTRY

from mrr_plugin.data.face_bicubic_dataset import FaceBicubicDataset
from mrr_plugin.data.face_landmarks import (LandmarkFileError, face_name, landmark_heatmaps, missing_landmarks_problem,
                                            read_landmarks)


@DATASET_REGISTRY.register()
class FaceLandmarkDataset(FaceBicubicDataset):
    """:class:`FaceBicubicDataset` plus ``'heatmap'``: DIC's Gaussian landmark heatmaps at 1/4 of ``gt_size``.

    Args (besides FaceBicubicDataset's):
        landmarks (str): The landmark file of the faces (:mod:`mrr_plugin.data.face_landmarks`); every face of
            ``dataroot_gt`` must have its points, in pixels of the file's ``size`` (scaled to ``gt_size``).
        heatmap_stride (int): HR pixels per heatmap pixel (4, their hourglass output).
        heatmap_sigma (float): Gaussian standard deviation in heatmap pixels (their ``sigma``: 1).

    The augmentations that move a face (``use_hflip``, ``use_rescale``) would leave its landmarks behind, so they
    are refused with landmarks (DIC trains without them: ``train_DIC_CelebA.json``, ``use_flip: false``).
    """

    def __init__(self, opt):
        if opt.get('phase') == 'train' and (opt.get('use_hflip', True) or opt.get('use_rescale', True)):
            raise ValueError('FaceLandmarkDataset: set use_hflip: false and use_rescale: false (a flipped or rescaled '
                             'face would no longer match its landmarks).')
        super().__init__(opt)
        try:
            self.landmark_size, self.landmarks = read_landmarks(opt['landmarks'])
        except LandmarkFileError as error:
            raise ValueError(f'landmarks: {error}') from None
        problem = missing_landmarks_problem('landmarks', opt['landmarks'], self.landmarks, self.paths)
        if problem:
            raise ValueError(problem)
        self.heatmap_stride = opt.get('heatmap_stride', 4)
        self.heatmap_sigma = opt.get('heatmap_sigma', 1.0)

    def __getitem__(self, index):
        sample = super().__getitem__(index)
        points = self.landmarks[face_name(self.paths[index])] * (self.gt_size / self.landmark_size)
        heatmaps = landmark_heatmaps(points, self.gt_size, self.heatmap_stride, self.heatmap_sigma)
        sample['heatmap'] = torch.from_numpy(np.ascontiguousarray(heatmaps))
        return sample
