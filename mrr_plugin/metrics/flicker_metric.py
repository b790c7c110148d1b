"""Temporal flicker of a restored video: the mean absolute change (grey levels) of the output from one frame to the
next inside the face regions, after removing the motion of the input (the warping error of Lai et al., "Learning
Blind Video Temporal Consistency", ECCV 2018, with the flow measured on the input frames, so a restoration is not
rewarded for moving less than the scene does).

Per frame pair: Farneback optical flow from the current input frame to the previous one, scaled to the output's size;
the previous output warped along it; ``|output - warped previous output|`` averaged over the RGB channels and the
pixels of ``mask`` (the restored faces' footprint). The measure is the mean over all masked pixels of all pairs.
"""
import cv2
import numpy as np


class FlickerMeter:
    """Feed ``update(source, output, mask)`` frame by frame; ``value`` is the flicker in grey levels (0-255)."""

    def __init__(self):
        self.total, self.count, self.previous = 0.0, 0, None

    def update(self, source, output, mask):
        """``source``: the input frame (RGB uint8), ``output``: the restored frame (RGB uint8, any multiple of the
        input's size), ``mask``: bool (H, W) of the output's pixels to measure in this frame."""
        grey = cv2.cvtColor(np.ascontiguousarray(source), cv2.COLOR_RGB2GRAY)
        if self.previous is not None and mask.any():
            previous_grey, previous_output = self.previous
            flow = cv2.calcOpticalFlowFarneback(grey, previous_grey, None, 0.5, 3, 15, 3, 5, 1.2, 0)
            height, width = output.shape[:2]
            scale_x, scale_y = width / grey.shape[1], height / grey.shape[0]
            flow = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR)
            grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
            # output pixel (x, y) shows the input point (x + 0.5) / scale - 0.5; it was at that point + flow before
            map_x = grid_x + flow[..., 0] * scale_x
            map_y = grid_y + flow[..., 1] * scale_y
            warped = cv2.remap(previous_output, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            change = np.abs(output.astype(np.float32) - warped.astype(np.float32)).mean(2)
            self.total += float(change[mask].sum())
            self.count += int(mask.sum())
        self.previous = (grey, output)

    @property
    def value(self):
        return self.total / self.count if self.count else float('nan')
