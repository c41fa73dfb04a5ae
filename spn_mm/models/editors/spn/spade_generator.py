from typing import Callable, Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from spn_mm.registry import MODELS
from .row_tiling import (RowSource, conv_rows, instance_norm_stats, map_rows,
                         materialize, norm_chunk_channels, tensor_rows,
                         up2_rows)
from .spn_blocks import (SPNRegionNorm, SPNShortcutResBlock, SPNSPADEResBlock,
                         SPNSPADEShortcutResBlock)

NUM_GENERATOR_LEVELS = 3


@MODELS.register_module()
class SPADEGenerator(BaseModule):
    """Fully context-aware image generator of SPN (Sec. 3.2, Eq. 7-9).

    Zhang et al., "Fully Context-Aware Image Inpainting with a Learned
    Semantic Pyramid" (Pattern Recognition 2023).

    Works in the official value convention: the input image is in [0, 1]
    with holes filled with 1.0 and the output is ``(tanh(y) + 1) / 2`` in
    [0, 1] (see :class:`SPNGenerator` for the [-1, 1] wrapper). With
    ``b = base_channels`` (official 64), for an (H, W) input:

    * encoder (Eq. 7): reflect pad 3 + 7x7 conv 3->b, then two 4x4 stride-2
      convs b->2b->4b; each conv is followed by region normalisation
      (:class:`SPNRegionNorm`, the only place the mask enters) and ReLU.
      The output is F_enc^L (4b, H/4);
    * middle (Eq. 9, first line): ``num_middle_blocks`` SPADE residual blocks
      (dilation ``middle_dilation``) conditioned on S^L (the H/4 prior),
      giving F_dec^L;
    * per finer level: nearest 2x up-sampling + learned-shortcut SPADE block
      conditioned on that level's prior (4b->2b at H/2, 2b->b at H);
    * LeakyReLU(0.2) -> reflect pad 3 -> 7x7 conv b->3 -> (tanh + 1) / 2.

    ``fusion='concat'`` is the paper's "w/o SPADE" ablation (Sec. 4.4.1,
    ``F_dec^L = concat(F_enc^L, S^L)``): every block that would be
    SPADE-conditioned instead receives ``cat([features, prior])`` and is a
    plain residual block with a learned 3x3 shortcut (no normalisation,
    ReLU; :class:`SPNShortcutResBlock`) mapping back to the block's output
    width. The middle blocks keep their dilation. Everything else (encoder,
    up-sampling, output layer) is unchanged.

    The prior list may be shorter than the 3 generator levels (prior
    learner with ``num_scales`` < 3): a level without its own prior uses the
    nearest coarser prior, nearest-up-sampled to its size.

    Args:
        in_channels (int): Image channels. Default: 3.
        out_channels (int): Output channels. Default: 3.
        base_channels (int): Width b. Default: 64.
        prior_channels (Sequence[int]): Channels of the prior seen by each
            generator level, fine -> coarse (H, H/2, H/4). Default:
            (64, 128, 256) (official). :class:`SPNGenerator` fills it from
            the prior learner.
        num_middle_blocks (int): Number of middle blocks N. Default: 8
            (paper Table 4 also uses 4 and 12).
        middle_dilation (int): Dilation of the middle blocks. Default: 2.
        spade_hidden_channels (int): SPADE hidden width. Default: 128.
        cap_spade_hidden (bool): Use ``min(spade_hidden_channels,
            prior channels)`` as the hidden width. The official probabilistic
            model does this (64 in the last decoder block); the deterministic
            one does not. Default: False.
        fusion (str): ``'spade'`` or ``'concat'``. Default: ``'spade'``.
        init_cfg (dict, optional): Initialisation config. Default: None.
    """

    def __init__(self,
                 in_channels: int = 3,
                 out_channels: int = 3,
                 base_channels: int = 64,
                 prior_channels: Sequence[int] = (64, 128, 256),
                 num_middle_blocks: int = 8,
                 middle_dilation: int = 2,
                 spade_hidden_channels: int = 128,
                 cap_spade_hidden: bool = False,
                 fusion: str = 'spade',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if fusion not in ('spade', 'concat'):
            raise ValueError("SPADEGenerator: fusion must be 'spade' or "
                             f"'concat', got {fusion!r}")
        prior_channels = list(prior_channels)
        if len(prior_channels) != NUM_GENERATOR_LEVELS:
            raise ValueError(
                'SPADEGenerator: prior_channels must give one width per '
                f'generator level (3, fine -> coarse), got {prior_channels}')
        if num_middle_blocks < 1:
            raise ValueError('SPADEGenerator: num_middle_blocks must be >= 1, '
                             f'got {num_middle_blocks}')
        b = base_channels
        self.in_channels = in_channels
        self.base_channels = b
        self.prior_channels = prior_channels
        self.fusion = fusion
        spade = dict(
            hidden_channels=spade_hidden_channels, cap_hidden=cap_spade_hidden)

        # image encoder
        self.enc_conv1 = nn.Conv2d(
            in_channels, b, 7, padding=3, padding_mode='reflect')
        self.enc_norm1 = SPNRegionNorm(b)
        self.enc_conv2 = nn.Conv2d(b, 2 * b, 4, stride=2, padding=1)
        self.enc_norm2 = SPNRegionNorm(2 * b)
        self.enc_conv3 = nn.Conv2d(2 * b, 4 * b, 4, stride=2, padding=1)
        self.enc_norm3 = SPNRegionNorm(4 * b)

        # middle blocks on the coarsest prior
        p_fine, p_mid, p_coarse = prior_channels
        if fusion == 'spade':
            self.middle_blocks = nn.ModuleList([
                SPNSPADEResBlock(
                    4 * b, p_coarse, dilation=middle_dilation, **spade)
                for _ in range(num_middle_blocks)
            ])
            self.decoder_blocks = nn.ModuleList([
                SPNSPADEShortcutResBlock(4 * b, 2 * b, p_mid, **spade),
                SPNSPADEShortcutResBlock(2 * b, b, p_fine, **spade)
            ])
        else:
            self.middle_blocks = nn.ModuleList([
                SPNShortcutResBlock(
                    4 * b + p_coarse, 4 * b, dilation=middle_dilation)
                for _ in range(num_middle_blocks)
            ])
            self.decoder_blocks = nn.ModuleList([
                SPNShortcutResBlock(4 * b + p_mid, 2 * b),
                SPNShortcutResBlock(2 * b + p_fine, b)
            ])
        self.out_conv = nn.Conv2d(
            b, out_channels, 7, padding=3, padding_mode='reflect')

    def _block(self, block: nn.Module, x: Tensor, prior: Tensor) -> Tensor:
        if self.fusion == 'spade':
            return block(x, prior)
        return block(torch.cat([x, prior], dim=1))

    def expand_priors(self, priors: Sequence[Tensor]) -> List[Tensor]:
        """Fill missing fine levels with nearest-up-sampled coarser priors.

        Args:
            priors (Sequence[Tensor]): 1-3 priors, fine -> coarse, the last
                one at H/4.

        Returns:
            list[Tensor]: 3 priors at (H, H/2, H/4), fine -> coarse.
        """
        return self._expand_levels(
            priors, lambda p: F.interpolate(
                p, size=(p.shape[2] * 2, p.shape[3] * 2), mode='nearest'),
            lambda p: p.shape[1] if p.dim() == 4 else None)

    def _expand_levels(self, priors: Sequence, up: Callable,
                       channels: Callable) -> List:
        """:meth:`expand_priors` for tensors or row sources: ``up`` is the
        nearest 2x up-sampling, ``channels`` gives a level's channels
        (None: not a 4-D map)."""
        priors = list(priors)
        if not 1 <= len(priors) <= NUM_GENERATOR_LEVELS:
            raise ValueError('SPADEGenerator: expected 1-3 priors (fine -> '
                             f'coarse), got {len(priors)}')
        num_missing = NUM_GENERATOR_LEVELS - len(priors)
        levels: List = [None] * num_missing + priors
        for i in range(num_missing - 1, -1, -1):
            levels[i] = up(levels[i + 1])
        for i, (p, c) in enumerate(zip(levels, self.prior_channels)):
            if channels(p) != c:
                shape = tuple(p.shape) if isinstance(p, Tensor) else (
                    f'{p.channels} channels')
                raise ValueError(
                    f'SPADEGenerator: prior for level {i} (fine -> coarse) '
                    f'must have {c} channels, got {shape}')
        return levels

    def encode(self,
               img: Tensor,
               mask: Tensor,
               tile_pixels: Optional[int] = None) -> Tensor:
        """Image encoder (Eq. 7).

        Args:
            img (Tensor): (B, 3, H, W) in [0, 1], holes filled with 1.0.
            mask (Tensor): (B, 1, H, W), 1 = hole.
            tile_pixels (int, optional): None: the whole-image forward. An
                int: the exact low-memory path for inference (no autograd):
                convolutions and region normalisation (whole-image statistics
                by the instance-norm kernel, a few channels at a time, then
                normalised in place) on row stripes of about this many
                pixels.

        Returns:
            Tensor: F_enc^L (B, 4b, H/4, W/4).
        """
        if img.dim() != 4 or img.shape[1] != self.in_channels:
            raise ValueError(
                f'SPADEGenerator: expected `img` of shape '
                f'(B, {self.in_channels}, H, W), got {tuple(img.shape)}')
        if img.shape[2] % 4 or img.shape[3] % 4:
            raise ValueError('SPADEGenerator: image height and width must be '
                             f'multiples of 4, got {tuple(img.shape)}')
        if tile_pixels is not None:
            feat = img
            for conv, norm in ((self.enc_conv1, self.enc_norm1),
                               (self.enc_conv2, self.enc_norm2),
                               (self.enc_conv3, self.enc_norm3)):
                feat = materialize(
                    conv_rows(tensor_rows(feat), conv), tile_pixels)
                norm.forward_tiled_(feat, mask, tile_pixels, relu=True)
            return feat
        feat = F.relu(self.enc_norm1(self.enc_conv1(img), mask))
        feat = F.relu(self.enc_norm2(self.enc_conv2(feat), mask))
        return F.relu(self.enc_norm3(self.enc_conv3(feat), mask))

    def decode(self,
               feat: Tensor,
               priors: Sequence[Tensor],
               tile_pixels: Optional[int] = None) -> Dict[str, Tensor]:
        """Middle blocks + decoder (Eq. 9).

        Args:
            feat (Tensor): F_enc^L (N, 4b, h, w).
            priors (Sequence[Tensor]): 1-3 priors, fine -> coarse, batch N.
            tile_pixels (int, optional): None: the whole-image forward. An
                int: the exact low-memory path for inference (no autograd,
                ``fusion='spade'`` only): the decoder blocks at 2h and 4h
                run on row stripes of about this many pixels (nearest
                up-sampling, SPADE embeddings and gamma/beta per stripe,
                instance-norm statistics over the whole map, a few channels at
                a time);
                the middle blocks at h run whole.

        Returns:
            dict[str, Tensor]: ``feat_dec`` F_dec^L (N, 4b, h, w) and ``out``
            (N, 3, 4h, 4w) in [0, 1].
        """
        if tile_pixels is not None:
            return self._decode_tiled(feat, priors, tile_pixels)
        levels = self.expand_priors(priors)
        if levels[-1].shape[-2:] != feat.shape[-2:] or \
                levels[-1].shape[0] != feat.shape[0]:
            raise ValueError(
                'SPADEGenerator: the coarsest prior must match F_enc^L in '
                f'batch and size; got prior {tuple(levels[-1].shape)} and '
                f'features {tuple(feat.shape)}')
        x = feat
        for block in self.middle_blocks:
            x = self._block(block, x, levels[-1])
        feat_dec = x
        for block, prior in zip(self.decoder_blocks, levels[-2::-1]):
            x = F.interpolate(x, scale_factor=2, mode='nearest')
            x = self._block(block, x, prior)
        x = self.out_conv(F.leaky_relu(x, 0.2))
        out = (torch.tanh(x) + 1) / 2
        return dict(feat_dec=feat_dec, out=out)

    def _decode_tiled(self, feat: Tensor, priors: Sequence[Tensor],
                      tile_pixels: int) -> Dict[str, Tensor]:
        """:meth:`decode` on row stripes (see there)."""
        if self.fusion != 'spade':
            raise ValueError(
                "SPADEGenerator: the low-memory path (tile_pixels) supports "
                f"fusion='spade' only, got fusion={self.fusion!r}")
        priors = list(priors)
        # missing fine levels: nearest 2x of the coarser level, per stripe
        levels: List[RowSource] = self._expand_levels(
            [tensor_rows(p) for p in priors], up2_rows,
            lambda p: p.channels)
        coarsest = priors[-1]
        if coarsest.shape[-2:] != feat.shape[-2:] or \
                coarsest.shape[0] != feat.shape[0]:
            raise ValueError(
                'SPADEGenerator: the coarsest prior must match F_enc^L in '
                f'batch and size; got prior {tuple(coarsest.shape)} and '
                f'features {tuple(feat.shape)}')
        x = feat
        for block in self.middle_blocks:
            x = block(x, coarsest)
        feat_dec = x
        x_rows: Optional[RowSource] = None
        for block, prior in zip(self.decoder_blocks, levels[-2::-1]):
            if x_rows is not None:  # store the previous block's output
                x = materialize(x_rows, tile_pixels)  # (the last one's is
                # streamed into out_conv below)
            # instance-norm statistics of the up-sampled map, a few
            # channels at a time

            def up_chunk(c0: int, c1: int, x: Tensor = x) -> Tensor:
                return F.interpolate(
                    x[:, c0:c1], scale_factor=2, mode='nearest')

            stats = instance_norm_stats(
                up_chunk, x.shape[1],
                norm_chunk_channels(tile_pixels, 2 * x.shape[2],
                                    2 * x.shape[3]))
            x_rows = block.rows(
                up2_rows(tensor_rows(x)), stats, prior, tile_pixels)
        out = materialize(
            conv_rows(
                map_rows(lambda t: F.leaky_relu(t, 0.2, inplace=True),
                         x_rows),
                self.out_conv,
                post=lambda y: (torch.tanh(y) + 1) / 2), tile_pixels)
        return dict(feat_dec=feat_dec, out=out)

    def forward(self, img: Tensor, mask: Tensor,
                priors: Sequence[Tensor]) -> Tensor:
        """Forward.

        Args:
            img (Tensor): (B, 3, H, W) in [0, 1], holes filled with 1.0.
            mask (Tensor): (B, 1, H, W), 1 = hole.
            priors (Sequence[Tensor]): 1-3 priors, fine -> coarse; the last
                is (B, P, H/4, W/4).

        Returns:
            Tensor: (B, 3, H, W) in [0, 1].
        """
        return self.decode(self.encode(img, mask), priors)['out']
