from typing import List, Optional, Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor
from torch.nn.utils import spectral_norm

from spn_mm.registry import MODELS


@MODELS.register_module()
class SPNProbDiscriminator(BaseModule):
    """PatchGAN discriminator of probabilistic SPN (official ``D_Net_SPADE``).

    * conv1: 4x4 s2 p1 ``in->64`` with bias, no spectral norm -> LReLU(0.2);
    * conv2/3/4: 4x4 p1 (s2 ``64->128``, s2 ``128->256``, s1 ``256->512``),
      spectral norm, no bias -> InstanceNorm (affine off) -> LReLU(0.2);
    * conv5: 4x4 s1 p1 ``512->1`` with bias, no spectral norm, no sigmoid.

    Input: RGB images in **[0, 1]** (official; ``SPNInpaintor`` with
    ``disc_input_range=(0, 1)``). 2,763,841 parameters for 3 input channels; 30x30 logits for a 256 input
    (6x6 for 64). Pair with mmagic ``GANLoss(gan_type='hinge')`` (official
    hinge loss) and :class:`~spn_mm.models.losses.DiscFeatureMatchingLoss`
    on the returned features. PyTorch default initialisation, as official.

    Args:
        in_channels (int): Input channels (3, or 4 with the mask).
            Default: 3.
        base_channels (int): Width of conv1. Default: 64.
        init_cfg (dict, optional): mmengine init config. Default: None.
    """

    def __init__(self,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if in_channels < 1:
            raise ValueError(f'in_channels must be >= 1, got {in_channels}')
        self.in_channels = in_channels
        ch = base_channels
        self.conv1 = nn.Sequential(
            nn.Conv2d(in_channels, ch, 4, stride=2, padding=1, bias=True),
            nn.LeakyReLU(0.2))
        for i, (cin, cout, stride) in enumerate([(ch, ch * 2, 2),
                                                 (ch * 2, ch * 4, 2),
                                                 (ch * 4, ch * 8, 1)],
                                                start=2):
            self.add_module(
                f'conv{i}',
                nn.Sequential(
                    spectral_norm(
                        nn.Conv2d(
                            cin, cout, 4, stride=stride,
                            padding=1, bias=False)),
                    nn.InstanceNorm2d(cout, affine=False), nn.LeakyReLU(0.2)))
        self.conv5 = nn.Sequential(
            nn.Conv2d(ch * 8, 1, 4, stride=1, padding=1, bias=True))

    def forward(self, img: Tensor) -> Tuple[Tensor, List[Tensor]]:
        """Forward.

        Args:
            img (Tensor): (N, in_channels, H, W).

        Returns:
            tuple[Tensor, list[Tensor]]: ``logits`` (N, 1, H', W') and
            ``[conv2, conv3, conv4]`` outputs (after IN + LReLU), the three
            maps the official feature-matching loss uses.
        """
        if img.dim() != 4 or img.size(1) != self.in_channels:
            raise ValueError(f'SPNProbDiscriminator expects (N, in_channels='
                             f'{self.in_channels}, H, W), got '
                             f'{tuple(img.shape)}')
        x1 = self.conv1(img)
        x2 = self.conv2(x1)
        x3 = self.conv3(x2)
        x4 = self.conv4(x3)
        logits = self.conv5(x4)
        return logits, [x2, x3, x4]
