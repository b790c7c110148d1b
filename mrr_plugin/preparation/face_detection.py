"""Face detection with facexlib's RetinaFace (ResNet-50), weights from a local folder only."""
import numpy as np
import torch

from mrr_plugin.data.face_geometry import DetectedFace
from mrr_plugin.utils import facexlib_weights
from mrr_plugin.utils.checkpoint_file import load_checkpoint

DETECTION_FILE = 'detection_Resnet50_Final.pth'


def load_retinaface(weights_dir, device='cpu'):
    """facexlib's RetinaFace-R50 in eval mode on ``device``; one-sentence FileNotFoundError when the weights are
    missing (facexlib's own ``init_detection_model`` would download them)."""
    path = facexlib_weights(weights_dir, DETECTION_FILE, 'Face detection')
    from facexlib.detection.retinaface import RetinaFace
    device = torch.device(device)
    model = RetinaFace(network_name='resnet50', half=False, device=device)
    state = load_checkpoint(path)
    model.load_state_dict({k.removeprefix('module.'): v for k, v in state.items()}, strict=True)
    return model.eval().to(device)


def detect_faces(model, image, threshold=0.8):
    """:class:`~mrr_plugin.data.face_geometry.DetectedFace` rows of the faces in an RGB ``PIL.Image``, in
    RetinaFace's order; landmarks are its left eye, right eye, nose, left and right mouth corners."""
    with torch.no_grad():
        rows = model.detect_faces(image, conf_threshold=threshold)
    return [DetectedFace(tuple(row[:4]), row[5:15].reshape(5, 2), float(row[4]))
            for row in np.asarray(rows, dtype=np.float64)]
