import torch
import torch.nn as nn
from torch import Tensor

from spn_mm.registry import MODELS
from .utils import check_mask, check_same_shape, repeat_to_batch, resize_mask


@MODELS.register_module()
class MaskWeightedL1Loss(nn.Module):
    """Hole-weighted L1 reconstruction loss (SPN Eq. 10).

    ``loss_weight * mean(|pred - target| * (1 + hole_weight * M))`` with the
    mean over **B*C*H*W** (all elements, as in the official code).

    * Official code: ``hole_weight=2`` (hole pixels weigh 3, valid 1) -
      the default.
    * Paper Eq. 10 with ``delta=4``: ``hole_weight=4`` (hole pixels weigh 5).
      Configs choose.

    Expected range: **[0, 1]** images (``pred`` and ``target``), as in the
    official code; the loss is linear in the range, so [-1, 1] inputs would
    double it. The official loss is applied to the **raw** generator output
    (not the composite). When ``pred`` has ``K*B`` items (``K`` samples stacked as
    ``[all inputs s1; all inputs s2; ...]``) and ``target``/``mask`` have
    ``B``, they are repeated ``K`` times.

    Args:
        loss_weight (float): Global weight (official ``l1_weight``).
            Default: 10.0.
        hole_weight (float): Extra weight of hole pixels. Default: 2.0.
    """

    def __init__(self,
                 loss_weight: float = 10.0,
                 hole_weight: float = 2.0) -> None:
        super().__init__()
        self.loss_weight = float(loss_weight)
        self.hole_weight = float(hole_weight)

    def forward(self, pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            pred (Tensor): (N, C, H, W) prediction, ``N = K*B``.
            target (Tensor): (N or B, C, H, W) ground truth (detached).
            mask (Tensor): (N or B, 1, H, W), 1 = hole; nearest-resized if
                its spatial size differs from ``pred``.

        Returns:
            Tensor: Weighted scalar loss.
        """
        check_mask(mask)
        batch = pred.size(0)
        target = repeat_to_batch(target.detach(), batch, 'target')
        check_same_shape(pred, target, 'MaskWeightedL1Loss')
        m = resize_mask(repeat_to_batch(mask, batch, 'mask'),
                        pred.shape[-2:]).to(pred.dtype)
        loss = torch.mean(
            torch.abs(pred - target) * (1. + self.hole_weight * m))
        return self.loss_weight * loss
