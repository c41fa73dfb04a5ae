from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from torch import Tensor

from spn_mm.registry import MODELS
from .utils import check_mask, check_same_shape, repeat_to_batch, resize_mask


@MODELS.register_module()
class PriorDistillationLoss(nn.Module):
    """Multi-scale, hole-weighted L1 prior distillation loss (SPN Eq. 4).

    For every pyramid level ``l``::

        L_l = mean(|target_l - pred_l| * (1 + alpha * M_l))

    where ``M_l`` is the mask nearest-resized to the level's spatial size and
    the mean is over **B*C*H*W** of that level (as in the official code). The
    result is ``loss_weight * sum_l scale_weights[l] * L_l``. With the
    defaults (``alpha=3``, all scale weights 1) it equals the official
    ``mean(|p256-t0|(1+3M)) + mean(|p128-t1|(1+3M128)) +
    mean(|p64-t2|(1+3M64))``.

    Probabilistic setup: when the predictions have ``K*B`` items (``K``
    samples stacked as ``[all inputs s1; all inputs s2; ...]``) and the mask
    and/or targets have ``B`` items, they are repeated ``K`` times in that
    order (the official code repeats the targets x2).

    Args:
        loss_weight (float): Global weight. Default: 1.0.
        alpha (float): Extra weight of hole pixels. Default: 3.0.
        scale_weights (Sequence[float], optional): One weight per level,
            ordered like ``preds``. ``None`` means 1 for every level.
            Default: None.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 alpha: float = 3.0,
                 scale_weights: Optional[Sequence[float]] = None) -> None:
        super().__init__()
        self.loss_weight = float(loss_weight)
        self.alpha = float(alpha)
        self.scale_weights = (None if scale_weights is None else
                              [float(w) for w in scale_weights])

    def forward(self, preds: List[Tensor], targets: List[Tensor],
                mask: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            preds (list[Tensor]): Distillation-head outputs, one (N, C_l,
                H_l, W_l) tensor per level (fine -> coarse), ``N = K*B``.
            targets (list[Tensor]): Teacher targets with the same shapes
                (batch ``N`` or ``B``); treated as constants (detached).
            mask (Tensor): (B or N, 1, H, W), 1 = hole.

        Returns:
            Tensor: Weighted scalar loss.
        """
        if not isinstance(preds, (list, tuple)) or not isinstance(
                targets, (list, tuple)):
            raise TypeError('PriorDistillationLoss: preds and targets must '
                            'be lists of tensors (one per pyramid level).')
        if len(preds) == 0:
            raise ValueError('PriorDistillationLoss: preds is empty.')
        if len(preds) != len(targets):
            raise ValueError(
                f'PriorDistillationLoss: got {len(preds)} preds but '
                f'{len(targets)} targets; they must have one entry per '
                'pyramid level.')
        weights = self.scale_weights
        if weights is None:
            weights = [1.0] * len(preds)
        elif len(weights) != len(preds):
            raise ValueError(
                f'PriorDistillationLoss: scale_weights has {len(weights)} '
                f'entries but there are {len(preds)} pyramid levels.')
        check_mask(mask)

        total = 0.
        for lvl, (pred, target, w) in enumerate(zip(preds, targets, weights)):
            batch = pred.size(0)
            target = repeat_to_batch(target.detach(), batch, f'targets[{lvl}]')
            check_same_shape(pred, target, f'PriorDistillationLoss level '
                             f'{lvl}')
            m = resize_mask(
                repeat_to_batch(mask, batch, 'mask'),
                pred.shape[-2:]).to(pred.dtype)
            level_loss = torch.mean(
                torch.abs(target - pred) * (1. + self.alpha * m))
            total = total + w * level_loss
        return self.loss_weight * total
