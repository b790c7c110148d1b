"""When a face is better left as it is: the checks the restorer runs so that it never pastes back a face worse than
the plain upscale of the photo.

- **Size** (before): an x8 network sees a face through its 16x16 input. A face whose crop is much larger than that
  loses its detail on the way in, and the restored face pasted over it is blurrier than the photo upscaled
  (measured on the 600 real dev faces, README "Never a worse face"). :func:`pick_model` sends each face to the model
  whose input fits it best and says when it fits none within ``max_face_scale``.
- **Pose** (before, DIC crop): the DIC crop is a scale and a translation (the protocol's axis-aligned boxes), so a
  face turned or tilted far from the frontal faces the x8 models were trained on does not fit the 5-point template;
  :func:`template_fit_error` measures how far its landmarks are from the template after the fit.
- **Consistency** (after): the restored face, reduced the way the model's inputs are made (PIL's antialiased
  bicubic), must reproduce the input crop (:func:`lr_consistency_error`); a network out of its domain (a colour
  face on a grey photo, a face it misreads) does not.

The limits are measured on real faces by ``scripts/measure_restore_limits.py``.
"""
import numpy as np
from PIL import Image

# A face up to this many times the model's input side is restored (crop side in photo pixels / input side): on the
# 600 real dev faces, bicubic upscaling from 2 x 16 = 32 px to 128 px gives 27.51 dB (DIC protocol), already above
# the published x8 networks from 16 px (MRRNet 27.27, SPARNet 27.42 dB); from 28 px it gives 26.63 dB.
DEFAULT_MAX_FACE_SCALE = 2.0
# Landmarks further than this from the DIC template after its fit (RMS distance in eye distances of the template)
# are a pose the x8 models never saw: the worst of the 600 real CelebA faces of the DIC protocol is 0.320 (MTCNN;
# median 0.094); an in-plane tilt alone reaches it at about 30 degrees.
DIC_POSE_LIMIT = 0.35
# Largest mean absolute difference (grey levels) between the restored face reduced to the input size and the input.
# Measured (scripts/measure_restore_limits.py): an MRRNet trained 400 iterations on the dev faces is above 14 on
# 0.3 % of 300 protocol faces and 2.0 % of 300 real low-quality WIDER faces; bicubic upscaling never (at most 7.1);
# another person's face always, the face moved by one input pixel on 99.7 %.
DEFAULT_MAX_LR_ERROR = 14.0


def check_limits(max_face_scale, pose_limit, max_lr_error):
    """ValueError naming the option when a limit is not a number >= 0 (None or 0 turn a check off)."""
    for name, value in (('--max-face-scale', max_face_scale), ('--pose-limit', pose_limit),
                        ('--max-lr-error', max_lr_error)):
        if value is not None and not value >= 0:
            raise ValueError(f'{name} {value:g}: expected a number >= 0 (0 turns the check off).')


def pick_model(sides, max_face_scale=DEFAULT_MAX_FACE_SCALE):
    """``(index, None)`` of the model that fits a face best, or ``(index, reason)`` when none fits.

    ``sides[k] = (side, lr_size)``: the face's crop side in photo pixels under model k's crop, and model k's input
    side. Best fit: the largest input no larger than the face (least detail lost, no blur added), else the smallest
    input. It fits when ``side <= max_face_scale * lr_size`` (``max_face_scale`` None or 0: any size)."""
    fitting = [k for k, (side, lr_size) in enumerate(sides) if lr_size <= side]
    if fitting:
        index = max(fitting, key=lambda k: (sides[k][1], -k))
    else:
        index = min(range(len(sides)), key=lambda k: (sides[k][1], k))
    side, lr_size = sides[index]
    if max_face_scale and side > max_face_scale * lr_size:
        return index, (f'{side:.0f} px, {side / lr_size:.1f}x the {lr_size}-px model input (limit --max-face-scale '
                       f'{max_face_scale:g}): left to the background upsampler, restoring it from {lr_size} px would '
                       'lose its detail')
    return index, None


def template_fit_error(points, matrix, template):
    """RMS distance between ``template`` and the 5 ``points`` mapped by the fitted ``matrix`` (photo -> crop), in
    units of the template's eye distance: 0 for a face exactly like the template, growing with turn and tilt."""
    points, template = np.asarray(points, np.float64), np.asarray(template, np.float64)
    fitted = points @ np.asarray(matrix, np.float64)[:, :2].T + np.asarray(matrix, np.float64)[:, 2]
    eye_distance = np.hypot(*(template[1] - template[0]))
    return float(np.sqrt(((fitted - template) ** 2).sum(1).mean()) / eye_distance)


def lr_consistency_error(restored, lr):
    """Mean absolute difference (grey levels, 0-255) between ``restored`` (uint8 RGB) reduced to ``lr``'s size with
    PIL's antialiased bicubic, as the model's inputs are made, and ``lr``."""
    height, width = lr.shape[:2]
    reduced = np.asarray(Image.fromarray(restored).resize((width, height), Image.BICUBIC), np.float32)
    return float(np.abs(reduced - lr.astype(np.float32)).mean())
