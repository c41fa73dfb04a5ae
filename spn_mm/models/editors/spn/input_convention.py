"""SPN's input convention, in one place.

mmagic hands models the masked image in [-1, 1] and a mask with 1 = hole.
The authors' networks work on [0, 1] images whose holes are filled with
1.0 (so the output never depends on the pixel values inside the hole), and
the semantic prior learner sees a **nearest 2x up-sampled** view of
``cat([image, mask])``. :class:`SPNGenerator` and the mixing models'
``PriorGuidedEncDec`` both use these functions.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def to_official(masked_img: Tensor, mask: Tensor) -> Tuple[Tensor, Tensor]:
    """mmagic's masked image -> the official [0, 1] image with holes 1.0.

    Args:
        masked_img (Tensor): (B, 3, H, W) in [-1, 1]; hole values ignored.
        mask (Tensor): (B, 1, H, W), 1 = hole (any dtype).

    Returns:
        tuple[Tensor, Tensor]: ``x01`` (B, 3, H, W) and ``mask`` in the
        image's dtype.
    """
    mask = mask.to(masked_img.dtype)
    x01 = (masked_img + 1) / 2
    return x01 * (1 - mask) + mask, mask


def learner_view(x01: Tensor, mask: Tensor) -> Tensor:
    """The prior learner's input: ``cat([x01, mask])`` nearest-up-sampled 2x.

    Args:
        x01 (Tensor): (B, 3, H, W) official image (holes 1.0).
        mask (Tensor): (B, 1, H, W), 1 = hole.

    Returns:
        Tensor: (B, 4, 2H, 2W).
    """
    size = (2 * x01.shape[-2], 2 * x01.shape[-1])
    return torch.cat([
        F.interpolate(x01, size=size, mode='nearest'),
        F.interpolate(mask, size=size, mode='nearest')
    ],
                     dim=1)
