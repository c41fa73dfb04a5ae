from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from spn_mm.registry import MODELS
from .row_tiling import (as_rows, cat_rows, conv_rows, materialize,
                         pixel_shuffle_rows, tensor_rows)
from .spn_blocks import (SPNResBlock, SPNResidualDenseBlock,
                         SPNShortcutResBlock)

# Official distillation-head widths (TResNet-L stem/layer1/layer2),
# ordered fine -> coarse.
OFFICIAL_HEAD_CHANNELS = (76, 76, 152)


@MODELS.register_module()
class SemanticPriorLearner(BaseModule):
    """Multi-scale semantic prior learner of SPN (paper Sec. 3.1.1, Eq. 2-4).

    Zhang et al., "Fully Context-Aware Image Inpainting with a Learned
    Semantic Pyramid" (Pattern Recognition 2023).

    The learner works on a 2x view of the masked image: its input is
    ``cat([masked_img_2x, mask_2x])`` (B, 4, 2H, 2W), values in [0, 1] with
    holes filled with 1.0 (see :class:`SPNGenerator`). With ``b =
    base_channels`` (official 64) and ``C = 4b`` (official 256):

    * encoder: reflect pad 3 + 7x7 conv 4->b, then three 4x4 stride-2 convs
      b->2b->4b->C, ReLU after each, no normalisation. The outputs after the
      second and third convs are the skips at H and H/2 (official
      ``x_sm_256``/``x_sm_128``); the last one (H/4) is ``x_sm``;
    * trunk: 3x3 conv C->C, ``num_rdbs`` residual dense blocks; global feature
      fusion (1x1 conv over all RDB outputs, then 3x3 conv) **added to
      x_sm**; the sum is the fused encoding S_enc^L (H/4);
    * [variational plug-in, see :meth:`decode`];
    * ``num_recon_blocks`` residual blocks -> ``layout_64`` (C, H/4);
    * pixel-shuffle up-sampling (3x3 conv to 4x channels, PixelShuffle(2),
      ReLU), concatenation with the skip (skip first), learned-shortcut
      residual block -> ``layout_128`` (2b, H/2) and likewise
      ``layout_256`` (b, H);
    * 1x1 distillation heads mapping each produced layout to the teacher's
      channels (``head_channels``; official [76, 76, 152] fine -> coarse).
      They only feed the distillation loss; the image generator is
      conditioned on the pre-head layouts.

    Pyramid levels are ordered fine -> coarse. ``num_scales`` (1-3) keeps the
    ``num_scales`` coarsest levels: 1 -> [layout_64], 2 -> [layout_128,
    layout_64], 3 -> [layout_256, layout_128, layout_64] (official). Levels
    that are not produced are neither built nor distilled; the image
    generator then conditions its finer levels on the nearest coarser prior,
    nearest-up-sampled (done by :class:`SPADEGenerator`;
    :attr:`generator_prior_channels` gives the channels it sees per level).

    Args:
        in_channels (int): Input channels (image + mask). Default: 4.
        base_channels (int): Width b of the first conv. Default: 64.
        growth_channels (int): RDB growth rate. Default: 32.
        num_rdbs (int): Number of RDBs. Default: 16.
        num_rdb_layers (int): Dense layers per RDB. Default: 6.
        num_recon_blocks (int): Residual blocks producing layout_64.
            Default: 4.
        num_scales (int): Number of pyramid levels produced, 1-3. Default: 3.
        head_channels (Sequence[int], optional): Distillation-head out
            channels, fine -> coarse, one per produced level. Default: None
            (the official ``[76, 76, 152]``, last ``num_scales`` of them).
        variational_channels (int): Channels of the variational plug-in's
            output concatenated to S_enc^L before the residual blocks. When
            > 0 the first residual block becomes a learned-shortcut block
            ``(C + variational_channels) -> C`` (official probabilistic
            ``feature_recon.0``). Set by :class:`SPNGenerator`. Default: 0.
        init_cfg (dict, optional): Initialisation config. Default: None.
    """

    def __init__(self,
                 in_channels: int = 4,
                 base_channels: int = 64,
                 growth_channels: int = 32,
                 num_rdbs: int = 16,
                 num_rdb_layers: int = 6,
                 num_recon_blocks: int = 4,
                 num_scales: int = 3,
                 head_channels: Optional[Sequence[int]] = None,
                 variational_channels: int = 0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_scales not in (1, 2, 3):
            raise ValueError('SemanticPriorLearner: num_scales must be 1, 2 '
                             f'or 3, got {num_scales!r}')
        if head_channels is None:
            head_channels = OFFICIAL_HEAD_CHANNELS[-num_scales:]
        head_channels = list(head_channels)
        if len(head_channels) != num_scales:
            raise ValueError(
                'SemanticPriorLearner: head_channels must list one width per '
                f'produced level (num_scales={num_scales}, fine -> coarse), '
                f'got {head_channels}')
        if num_rdbs < 1 or num_recon_blocks < 1:
            raise ValueError('SemanticPriorLearner: num_rdbs and '
                             'num_recon_blocks must be >= 1')
        b = base_channels
        mid = 4 * b
        self.in_channels = in_channels
        self.base_channels = b
        self.mid_channels = mid
        self.num_scales = num_scales
        self.head_channels = head_channels
        self.variational_channels = variational_channels
        # channels of layout_256, layout_128, layout_64 (fine -> coarse)
        self.level_channels = [b, 2 * b, mid]

        # encoder over the 2x masked image + mask
        self.enc_conv1 = nn.Conv2d(
            in_channels, b, 7, padding=3, padding_mode='reflect')
        self.enc_conv2 = nn.Conv2d(b, 2 * b, 4, stride=2, padding=1)
        self.enc_conv3 = nn.Conv2d(2 * b, 4 * b, 4, stride=2, padding=1)
        self.enc_conv4 = nn.Conv2d(4 * b, mid, 4, stride=2, padding=1)

        # RDN trunk + global feature fusion
        self.trunk_conv = nn.Conv2d(mid, mid, 3, padding=1)
        self.rdbs = nn.ModuleList([
            SPNResidualDenseBlock(mid, growth_channels, num_rdb_layers)
            for _ in range(num_rdbs)
        ])
        self.global_fusion = nn.Sequential(
            nn.Conv2d(num_rdbs * mid, mid, 1),
            nn.Conv2d(mid, mid, 3, padding=1))

        # residual blocks producing layout_64
        recon: List[nn.Module] = []
        if variational_channels > 0:
            recon.append(SPNShortcutResBlock(mid + variational_channels, mid))
        else:
            recon.append(SPNResBlock(mid))
        recon += [SPNResBlock(mid) for _ in range(num_recon_blocks - 1)]
        self.recon_blocks = nn.ModuleList(recon)

        # pixel-shuffle up path: stage 0 -> layout_128, stage 1 -> layout_256
        # (skip channels: x_sm_128 has 4b, x_sm_256 has 2b)
        self.up_convs = nn.ModuleList()
        self.up_blocks = nn.ModuleList()
        skip_channels = [4 * b, 2 * b]
        in_ch = mid
        for stage in range(num_scales - 1):
            out_ch = mid // (2**(stage + 1))
            self.up_convs.append(nn.Conv2d(in_ch, 4 * out_ch, 3, padding=1))
            self.up_blocks.append(
                SPNShortcutResBlock(skip_channels[stage] + out_ch, out_ch))
            in_ch = out_ch

        # distillation heads, fine -> coarse over the produced levels
        produced = self.level_channels[-num_scales:]
        self.heads = nn.ModuleList([
            nn.Conv2d(c_in, c_out, 1)
            for c_in, c_out in zip(produced, head_channels)
        ])

    @property
    def prior_channels(self) -> List[int]:
        """Channels of the produced priors, fine -> coarse."""
        return self.level_channels[-self.num_scales:]

    @property
    def generator_prior_channels(self) -> List[int]:
        """Channels of the prior each of the 3 generator levels sees.

        Fine -> coarse (H, H/2, H/4). A level without its own prior uses the
        nearest coarser produced prior.
        """
        chans = list(self.level_channels)
        for i in range(3 - self.num_scales - 1, -1, -1):
            chans[i] = chans[i + 1]
        return chans

    def _check_input(self, x: Tensor) -> None:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                'SemanticPriorLearner: expected input of shape '
                f'(B, {self.in_channels}, 2H, 2W) (2x masked image + mask), '
                f'got {tuple(x.shape)}')
        if x.shape[2] % 8 or x.shape[3] % 8:
            raise ValueError('SemanticPriorLearner: input height and width '
                             f'must be multiples of 8, got {tuple(x.shape)}')

    def encode(self,
               x: Tensor,
               tile_pixels: Optional[int] = None
               ) -> Tuple[Tensor, List[Tensor]]:
        """Encode the 2x view into the fused features S_enc^L.

        Args:
            x (Tensor): (B, 4, 2H, 2W), ``cat([masked_img_2x, mask_2x])``.
            tile_pixels (int, optional): None: the whole-image forward. An
                int: the exact low-memory path for inference (no autograd):
                the encoder convs run on row stripes of about this many
                pixels, neither the (B, b, 2H, 2W) map nor ``x_sm_256`` is
                stored (``x_sm_256`` is returned as a
                :class:`~.row_tiling.RowSource` that recomputes its rows
                from ``x`` when :meth:`decode` needs them), and the global
                feature fusion (1x1 conv over the concatenated RDB outputs)
                is accumulated RDB by RDB.

        Returns:
            tuple[Tensor, list[Tensor]]: S_enc^L (B, C, H/4, W/4) and the
            skips ``[x_sm_256 (B, 2b, H, W), x_sm_128 (B, 4b, H/2, W/2)]``
            (fine -> coarse).
        """
        self._check_input(x)
        if tile_pixels is not None:
            return self._encode_tiled(x, tile_pixels)
        feat = F.relu(self.enc_conv1(x))
        skip_fine = F.relu(self.enc_conv2(feat))
        skip_coarse = F.relu(self.enc_conv3(skip_fine))
        x_sm = F.relu(self.enc_conv4(skip_coarse))

        s = self.trunk_conv(x_sm)
        rdb_outs = []
        for rdb in self.rdbs:
            s = rdb(s)
            rdb_outs.append(s)
        fused = self.global_fusion(torch.cat(rdb_outs, dim=1)) + x_sm
        return fused, [skip_fine, skip_coarse]

    def _encode_tiled(self, x: Tensor,
                      tile_pixels: int) -> Tuple[Tensor, List]:
        """:meth:`encode` on row stripes (see there)."""
        feat = conv_rows(tensor_rows(x), self.enc_conv1, post=torch.relu_)
        skip_fine = conv_rows(feat, self.enc_conv2, post=torch.relu_)
        skip_coarse = materialize(
            conv_rows(skip_fine, self.enc_conv3, post=torch.relu_),
            tile_pixels)
        x_sm = materialize(
            conv_rows(
                tensor_rows(skip_coarse), self.enc_conv4, post=torch.relu_),
            tile_pixels)

        # global_fusion[0] is a 1x1 conv over cat(rdb_outs): the sum of one
        # 1x1 conv per RDB output, so the outputs need not be kept
        fusion_1x1, fusion_3x3 = self.global_fusion
        mid = self.mid_channels
        s = self.trunk_conv(x_sm)
        acc = None
        for k, rdb in enumerate(self.rdbs):
            s = rdb(s)
            part = F.conv2d(s, fusion_1x1.weight[:, k * mid:(k + 1) * mid])
            acc = part if acc is None else acc.add_(part)
        del s
        acc.add_(fusion_1x1.bias.view(1, -1, 1, 1))
        fused = fusion_3x3(acc).add_(x_sm)
        return fused, [skip_fine, skip_coarse]

    def decode(
        self,
        fused: Tensor,
        skips: List[Tensor],
        extra: Optional[Tensor] = None,
        tile_pixels: Optional[int] = None
    ) -> Tuple[List[Tensor], List[Tensor]]:
        """Build the prior pyramid from S_enc^L.

        Args:
            fused (Tensor): S_enc^L (N, C, h, w).
            skips (list[Tensor]): Skips from :meth:`encode` (batch N).
                With ``tile_pixels`` they may be
                :class:`~.row_tiling.RowSource` s, and the list is emptied
                as they are used (so that they can be freed).
            extra (Tensor, optional): Variational plug-in output
                (N, variational_channels, h, w), concatenated after ``fused``.
                Required iff ``variational_channels > 0``.
            tile_pixels (int, optional): None: the whole-image forward. An
                int: the exact low-memory path for inference (no autograd):
                the up-sampling stages run on row stripes of about this many
                pixels, and the distillation heads (training loss only) are
                skipped (``distill`` is then an empty list).

        Returns:
            tuple[list[Tensor], list[Tensor]]: ``priors`` (pre-head layouts)
            and ``distill`` (head outputs), both fine -> coarse with
            ``num_scales`` entries.
        """
        if (extra is None) != (self.variational_channels == 0):
            raise ValueError(
                'SemanticPriorLearner.decode: `extra` (the variational '
                'output) must be given iff variational_channels > 0 '
                f'(variational_channels={self.variational_channels})')
        feat = fused if extra is None else torch.cat([fused, extra], dim=1)
        for block in self.recon_blocks:
            feat = block(feat)
        layouts = [feat]  # coarse -> fine while building
        for stage in range(len(self.up_convs)):
            conv, block = self.up_convs[stage], self.up_blocks[stage]
            if tile_pixels is not None:
                skip = as_rows(skips.pop())  # coarsest first, then freed
                # ReLU before the pixel shuffle: the same values
                up_rows = pixel_shuffle_rows(
                    conv_rows(tensor_rows(layouts[-1]), conv,
                              post=torch.relu_))
                layouts.append(
                    materialize(block.rows(cat_rows(skip, up_rows)),
                                tile_pixels))
                del skip, up_rows
                continue
            skip = skips[len(skips) - 1 - stage]
            up = F.relu(F.pixel_shuffle(conv(layouts[-1]), 2))
            layouts.append(block(torch.cat([skip, up], dim=1)))
        priors = layouts[::-1]
        if tile_pixels is not None:
            return priors, []
        distill = [head(p) for head, p in zip(self.heads, priors)]
        return priors, distill

    def forward(self, x: Tensor) -> Tuple[List[Tensor], List[Tensor]]:
        """Deterministic forward (no variational plug-in).

        Args:
            x (Tensor): (B, 4, 2H, 2W), ``cat([masked_img_2x, mask_2x])``.

        Returns:
            tuple[list[Tensor], list[Tensor]]: ``priors`` and ``distill``,
            fine -> coarse (see :meth:`decode`).
        """
        fused, skips = self.encode(x)
        return self.decode(fused, skips)
