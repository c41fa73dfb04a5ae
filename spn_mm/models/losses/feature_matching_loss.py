from typing import List

import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from spn_mm.registry import MODELS
from .utils import repeat_to_batch


@MODELS.register_module()
class DiscFeatureMatchingLoss(nn.Module):
    """Discriminator feature-matching loss (first term of SPN Eq. 13).

    ``loss_weight * 1/N * sum_i mean(|fake_i - real_i.detach()|)``: the
    mean over **B*C_i*H_i*W_i** of each layer, averaged over the ``N``
    layers. Official (prob): the three ``[conv2, conv3, conv4]`` maps of
    :class:`SPNProbDiscriminator`, divided by 3 and weighted by 10
    (hard-coded there) - the defaults here.

    When the fake batch is ``K*B`` (samples stacked ``[s1; s2; ...]``) and
    the real batch ``B``, the real features are repeated ``K`` times
    (official: x2).

    Args:
        loss_weight (float): Weight. Default: 10.0.
    """

    def __init__(self, loss_weight: float = 10.0) -> None:
        super().__init__()
        self.loss_weight = float(loss_weight)

    def forward(self, fake_feats: List[Tensor],
                real_feats: List[Tensor]) -> Tensor:
        """Compute the loss.

        Args:
            fake_feats (list[Tensor]): D features of the generated images,
                (K*B, C_i, H_i, W_i) each.
            real_feats (list[Tensor]): D features of the real images (batch
                B or K*B); detached here.

        Returns:
            Tensor: Weighted scalar loss.
        """
        if not isinstance(fake_feats, (list, tuple)) or not isinstance(
                real_feats, (list, tuple)):
            raise TypeError('DiscFeatureMatchingLoss: fake_feats and '
                            'real_feats must be lists of tensors')
        if len(fake_feats) == 0 or len(fake_feats) != len(real_feats):
            raise ValueError(
                f'DiscFeatureMatchingLoss: got {len(fake_feats)} fake and '
                f'{len(real_feats)} real feature maps; they must match and '
                'be non-empty.')
        total = 0.
        for i, (fake, real) in enumerate(zip(fake_feats, real_feats)):
            real = repeat_to_batch(real.detach(), fake.size(0),
                                   f'real_feats[{i}]')
            if fake.shape != real.shape:
                raise ValueError(f'DiscFeatureMatchingLoss layer {i}: fake '
                                 f'{tuple(fake.shape)} vs real '
                                 f'{tuple(real.shape)}')
            total = total + F.l1_loss(fake, real)
        return self.loss_weight * total / len(fake_feats)
