"""The pretext teacher's view of a training photo (official SPN data)."""
from typing import Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from spn_mm.registry import TRANSFORMS


@TRANSFORMS.register_module()
class SPNTeacherView(BaseTransform):
    """Resize the **original** photo for the teacher, as the authors do.

    The official dataset resizes the photo straight from the file to 512x512
    with ``cv2.resize`` (default bilinear) for the teacher and, separately,
    to 256x256 for the generator; both are flipped together. Put this
    transform after ``LoadImageFromFile`` and before the ``Resize`` of the
    training image, and list ``out_key`` in the ``Flip`` keys and in
    ``PackInputs(data_keys=[...])``. ``SPNInpaintor`` feeds it to the teacher
    (as RGB in [0, 1]) instead of up-sampling the 256 image.

    Required keys: ``key`` (H, W, 3) uint8 RGB. Added keys: ``out_key``.

    Args:
        scale (Sequence[int]): Output ``(width, height)``. Default (512, 512).
        key (str): Source image. Default: ``'gt'``.
        out_key (str): Output key. Default: ``'teacher_img'``.
    """

    def __init__(self,
                 scale: Sequence[int] = (512, 512),
                 key: str = 'gt',
                 out_key: str = 'teacher_img') -> None:
        scale = tuple(int(s) for s in scale)
        if len(scale) != 2 or min(scale) < 1:
            raise ValueError('SPNTeacherView.scale: expected (width, height) '
                             f'with positive sides, got {scale}')
        self.scale = scale
        self.key = key
        self.out_key = out_key

    def transform(self, results: dict) -> dict:
        """Add ``results[out_key]`` (height, width, 3) uint8."""
        if self.key not in results:
            raise KeyError(f'SPNTeacherView: results has no {self.key!r} '
                           'image (put it right after LoadImageFromFile)')
        img = results[self.key]
        view = cv2.resize(img, self.scale, interpolation=cv2.INTER_LINEAR)
        if view.ndim == 2:
            view = view[..., None]
        results[self.out_key] = np.ascontiguousarray(view)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, '
                f'key={self.key!r}, out_key={self.out_key!r})')
