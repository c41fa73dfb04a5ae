from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor
from torch.nn.utils import spectral_norm

from spn_mm.registry import MODELS


@MODELS.register_module()
class SPNPatchDiscriminator(BaseModule):
    """PatchGAN discriminator of deterministic SPN (official ``D_Net``).

    Five 4x4 convolutions with padding 1, **spectral norm on all of them and
    no biases**: ``in->64 s2, 64->128 s2, 128->256 s2, 256->512 s1,
    512->1 s1``, LeakyReLU(0.2) after the first four, no normalisation.
    Input: RGB images in **[0, 1]** (the official range; ``SPNInpaintor``
    passes them with ``disc_input_range=(0, 1)``). A 256x256 input gives a
    30x30 patch map (64x64 gives 6x6); 2,763,776
    parameters for 3 input channels. Initialisation: PyTorch defaults (the
    official code never re-initialises D), so the Runner's
    ``init_weights()`` is a no-op unless ``init_cfg`` is given.

    Submodule names mirror the official ones (``conv1.0.weight_orig`` ...),
    so an official D checkpoint loads after dropping its duplicate
    ``features.*`` keys (the official module registers ``conv1`` twice).

    Which loss pairs with which output:

    * ``use_sigmoid=False`` (default): logits -> mmagic
      ``GANLoss(gan_type='vanilla')`` (``BCEWithLogitsLoss``). This is
      numerically the official "nsgan" (BCE on sigmoid outputs).
    * ``use_sigmoid=True``: probabilities exactly as the official D returns
      them -> pair with a plain BCE on probabilities (``nn.BCELoss``), not
      with ``GANLoss('vanilla')`` (which would apply a second sigmoid).

    Args:
        in_channels (int): Input channels (3 for RGB, 4 with the mask).
            Default: 3.
        base_channels (int): Width of the first conv. Default: 64.
        use_sigmoid (bool): Apply a sigmoid to the output. Default: False.
        use_spectral_norm (bool): Spectral norm on every conv (official:
            True; biases are off when it is on, as in the official code).
            Default: True.
        init_cfg (dict, optional): mmengine init config. Default: None.
    """

    def __init__(self,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 use_sigmoid: bool = False,
                 use_spectral_norm: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if in_channels < 1:
            raise ValueError(f'in_channels must be >= 1, got {in_channels}')
        self.in_channels = in_channels
        self.use_sigmoid = use_sigmoid
        ch = base_channels
        specs = [(in_channels, ch, 2), (ch, ch * 2, 2), (ch * 2, ch * 4, 2),
                 (ch * 4, ch * 8, 1), (ch * 8, 1, 1)]
        for i, (cin, cout, stride) in enumerate(specs, start=1):
            conv = nn.Conv2d(
                cin,
                cout,
                kernel_size=4,
                stride=stride,
                padding=1,
                bias=not use_spectral_norm)
            if use_spectral_norm:
                conv = spectral_norm(conv)
            layers = [conv]
            if i < len(specs):
                layers.append(nn.LeakyReLU(0.2))
            self.add_module(f'conv{i}', nn.Sequential(*layers))

    def forward(self, img: Tensor) -> Tuple[Tensor, List[Tensor]]:
        """Forward.

        Args:
            img (Tensor): (N, in_channels, H, W).

        Returns:
            tuple[Tensor, list[Tensor]]: ``logits`` (N, 1, H', W') (sigmoid
            probabilities if ``use_sigmoid``) and the five feature maps
            ``[conv1, ..., conv5]`` (conv1-4 after LeakyReLU, conv5 before
            the optional sigmoid), e.g. 128/64/32/31/30 px for 256 input.
        """
        if img.dim() != 4 or img.size(1) != self.in_channels:
            raise ValueError(f'SPNPatchDiscriminator expects (N, in_channels='
                             f'{self.in_channels}, H, W), got '
                             f'{tuple(img.shape)}')
        feats = []
        x = img
        for i in range(1, 6):
            x = getattr(self, f'conv{i}')(x)
            feats.append(x)
        out = torch.sigmoid(x) if self.use_sigmoid else x
        return out, feats
