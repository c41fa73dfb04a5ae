"""Building blocks of the SPN generator.

All convolutions are plain ``nn.Conv2d`` with bias (the official generator
uses no spectral norm) and PyTorch's default initialisation. A reflection pad
followed by an unpadded convolution is expressed as
``nn.Conv2d(..., padding=p, padding_mode='reflect')``, which performs the
same operations.

Block names are SPN-prefixed so that they never collide with mmagic's
registry entries.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from spn_mm.registry import MODELS
from .row_tiling import (RowSource, conv_rows, instance_norm_stats, map_rows,
                         materialize, norm_chunk_channels, normalize_rows,
                         stripe_rows, tensor_rows)


def _check_feature(x: Tensor, channels: int, name: str, field: str) -> None:
    """Raise a clear error when ``x`` is not (B, channels, H, W)."""
    if x.dim() != 4 or x.shape[1] != channels:
        raise ValueError(f'{name}: expected `{field}` of shape '
                         f'(B, {channels}, H, W), got {tuple(x.shape)}')


def _check_mask(mask: Tensor, x: Tensor, name: str) -> None:
    if mask.dim() != 4 or mask.shape[1] != 1 or mask.shape[0] != x.shape[0]:
        raise ValueError(f'{name}: expected `mask` of shape '
                         f'({x.shape[0]}, 1, H, W) (1 = hole), got '
                         f'{tuple(mask.shape)}')


@MODELS.register_module()
class SPNRegionNorm(BaseModule):
    """Region normalisation, "basic" variant (RN-B) as used by SPN.

    Yu et al., "Region Normalization for Image Inpainting", AAAI 2020; the
    SPN image encoder normalises its three conv layers with it.

    The mask (1 = hole) is resized to the feature size with nearest
    interpolation. For each region ``R`` (holes ``m = 1`` and valid pixels
    ``m = 0``), per sample and per channel:

    1. ``mu_R`` = sum of ``x`` over ``R`` divided by ``|R|``, where an empty
       region uses a count of 1 instead of 0;
    2. the pixels outside ``R`` are filled with ``mu_R`` and the whole map is
       instance-normalised (no affine, eps 1e-5);
    3. the result is multiplied by ``sqrt(|R| / (H * W))`` (again with the
       count clamped to 1).

    The two regional maps are summed to ``rn`` (no re-masking), and

    ``out = rn * m * (1 + gamma_hole) + beta_hole
    + rn * (1 - m) * (1 + gamma_valid) + beta_valid``.

    As in the released code both betas are added everywhere (unmasked), so the
    effective bias is ``beta_hole + beta_valid``. The four (C,) affine
    vectors start at zero. They correspond to the official
    ``foreground_*`` (holes) and ``background_*`` (valid pixels) tensors.

    Args:
        num_features (int): Number of channels C.
        eps (float): Instance-norm epsilon. Default: 1e-5.
        init_cfg (dict, optional): Initialisation config. Default: None.
    """

    def __init__(self,
                 num_features: int,
                 eps: float = 1e-5,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_features = num_features
        self.eps = eps
        self.hole_gamma = nn.Parameter(torch.zeros(num_features))
        self.hole_beta = nn.Parameter(torch.zeros(num_features))
        self.valid_gamma = nn.Parameter(torch.zeros(num_features))
        self.valid_beta = nn.Parameter(torch.zeros(num_features))

    def _region_norm(self, x: Tensor, region: Tensor) -> Tensor:
        """Normalise ``x`` inside ``region`` (B,1,H,W), see class doc."""
        h, w = x.shape[-2:]
        count = region.sum(dim=(2, 3), keepdim=True)  # (B,1,1,1)
        count = torch.where(count == 0, torch.ones_like(count), count)
        masked = x * region
        mean = masked.sum(dim=(2, 3), keepdim=True) / count  # (B,C,1,1)
        filled = masked + (1 - region) * mean
        normed = F.instance_norm(filled, eps=self.eps)
        return normed * torch.sqrt(count / (h * w))

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        """Forward.

        Args:
            x (Tensor): Features (B, C, H, W).
            mask (Tensor): Mask (B, 1, H', W'), 1 = hole; nearest-resized to
                (H, W).

        Returns:
            Tensor: Normalised features (B, C, H, W).
        """
        _check_feature(x, self.num_features, type(self).__name__, 'x')
        _check_mask(mask, x, type(self).__name__)
        mask = F.interpolate(
            mask.to(x.dtype), size=x.shape[-2:], mode='nearest')
        rn = self._region_norm(x, mask) + self._region_norm(x, 1 - mask)

        def vec(p: Tensor) -> Tensor:
            return p.view(1, -1, 1, 1)

        hole = rn * mask * (1 + vec(self.hole_gamma)) + vec(self.hole_beta)
        valid = rn * (1 - mask) * (1 + vec(self.valid_gamma)) + vec(
            self.valid_beta)
        return hole + valid

    def forward_tiled_(self,
                       x: Tensor,
                       mask: Tensor,
                       tile_pixels: int,
                       relu: bool = False) -> Tensor:
        """:meth:`forward` (then an optional ReLU) on row stripes, **in
        place** (inference, no autograd).

        The statistics of every region are computed first, over the whole
        map but a few channels at a time, with the operations of
        :meth:`forward` (they are per channel, so the result is the same
        bit for bit); then each row stripe is normalised.

        Args:
            x (Tensor): Features (B, C, H, W), overwritten.
            mask (Tensor): Mask (B, 1, H', W'), 1 = hole.
            tile_pixels (int): Pixels per stripe.
            relu (bool): Apply ReLU to the result. Default: False.

        Returns:
            Tensor: ``x``, now ``forward(x, mask)`` (ReLU'd if ``relu``).
        """
        _check_feature(x, self.num_features, type(self).__name__, 'x')
        _check_mask(mask, x, type(self).__name__)
        mask = F.interpolate(
            mask.to(x.dtype), size=x.shape[-2:], mode='nearest')
        h, w = x.shape[-2:]
        group = norm_chunk_channels(tile_pixels, h, w)
        regions = []
        for region in (mask, 1 - mask):
            count = region.sum(dim=(2, 3), keepdim=True)
            count = torch.where(count == 0, torch.ones_like(count), count)
            means = []

            def filled(c0: int, c1: int, region: Tensor = region,
                       count: Tensor = count, means: list = means) -> Tensor:
                masked = x[:, c0:c1] * region
                mean = masked.sum(dim=(2, 3), keepdim=True) / count
                means.append(mean)
                return masked + (1 - region) * mean

            f_mean, f_invstd = instance_norm_stats(filled, x.shape[1], group,
                                                   self.eps)
            regions.append((region, torch.cat(means, dim=1), f_mean,
                            f_invstd, torch.sqrt(count / (h * w))))

        def vec(p: Tensor) -> Tensor:
            return p.view(1, -1, 1, 1)

        step = stripe_rows(tile_pixels, w)
        for a in range(0, h, step):
            b = min(h, a + step)
            t = x[:, :, a:b]
            rn = None
            for region, mean, f_mean, f_invstd, scale in regions:
                r = region[:, :, a:b]
                fill = tensor_rows(t * r + (1 - r) * mean)
                part = normalize_rows(fill, f_mean, f_invstd).rows(
                    0, b - a) * scale
                rn = part if rn is None else rn + part
            m = mask[:, :, a:b]
            out = rn * m * (1 + vec(self.hole_gamma)) + vec(
                self.hole_beta) + (rn * (1 - m) *
                                   (1 + vec(self.valid_gamma)) +
                                   vec(self.valid_beta))
            if relu:
                out.relu_()
            x[:, :, a:b] = out
        return x


@MODELS.register_module()
class SPNSPADE(BaseModule):
    """Spatially-adaptive normalisation conditioned on a prior map.

    Park et al., "Semantic Image Synthesis with Spatially-Adaptive
    Normalization", CVPR 2019; SPN Eq. 8.

    ``out = IN(x) * (1 + gamma(s)) + beta(s)`` where ``IN`` is a
    parameter-free instance norm (eps 1e-5), ``s`` the prior map
    nearest-resized to the size of ``x``, and ``gamma``/``beta`` are 3x3 convs
    on a shared 3x3 conv + ReLU embedding of ``s``.

    Args:
        norm_channels (int): Channels of the normalised features ``x``.
        label_channels (int): Channels of the conditioning prior map.
        hidden_channels (int): Width of the shared embedding. Default: 128
            (official, both setups).
        cap_hidden (bool): If True the hidden width is
            ``min(hidden_channels, label_channels)``. This is the rule of the
            official probabilistic model (a 64-channel prior gets a 64-wide
            embedding); the deterministic model uses False. Default: False.
        init_cfg (dict, optional): Initialisation config. Default: None.
    """

    def __init__(self,
                 norm_channels: int,
                 label_channels: int,
                 hidden_channels: int = 128,
                 cap_hidden: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if cap_hidden:
            hidden_channels = min(hidden_channels, label_channels)
        self.norm_channels = norm_channels
        self.label_channels = label_channels
        self.hidden_channels = hidden_channels
        self.shared_conv = nn.Conv2d(
            label_channels, hidden_channels, 3, padding=1)
        self.conv_gamma = nn.Conv2d(
            hidden_channels, norm_channels, 3, padding=1)
        self.conv_beta = nn.Conv2d(
            hidden_channels, norm_channels, 3, padding=1)
        self.fused = False

    def fuse(self) -> None:
        """Inference speed-up: ``conv_gamma`` and ``conv_beta`` become one
        convolution with 2 * norm_channels outputs (their weights
        concatenated into non-persistent buffers: state_dict keys and
        values unchanged). Used in eval mode only; call again after the
        weights change (e.g. loading a checkpoint after ``fuse()``)."""
        with torch.no_grad():
            self.register_buffer(
                'fused_weight',
                torch.cat([self.conv_gamma.weight, self.conv_beta.weight]),
                persistent=False)
            self.register_buffer(
                'fused_bias',
                torch.cat([self.conv_gamma.bias, self.conv_beta.bias]),
                persistent=False)
        self.fused = True

    def forward(self,
                x: Tensor,
                prior: Tensor,
                normed: Optional[Tensor] = None) -> Tensor:
        """Forward.

        Args:
            x (Tensor): Features (B, norm_channels, H, W).
            prior (Tensor): Prior map (B, label_channels, H', W').
            normed (Tensor, optional): ``instance_norm(x)`` when the caller
                already computed it (blocks whose SPADEs share ``x``).

        Returns:
            Tensor: Modulated features (B, norm_channels, H, W).
        """
        _check_feature(x, self.norm_channels, 'SPNSPADE', 'x')
        _check_feature(prior, self.label_channels, 'SPNSPADE', 'prior')
        if normed is None:
            normed = F.instance_norm(x, eps=1e-5)
        if prior.shape[-2:] != x.shape[-2:]:
            prior = F.interpolate(prior, size=x.shape[-2:], mode='nearest')
        actv = F.relu(self.shared_conv(prior))
        if self.fused and not self.training:
            gamma, beta = F.conv2d(
                actv, self.fused_weight, self.fused_bias,
                padding=1).split(self.norm_channels, dim=1)
            return normed * (1 + gamma) + beta
        return normed * (1 + self.conv_gamma(actv)) + self.conv_beta(actv)

    def rows(self, normed: RowSource, prior: RowSource) -> RowSource:
        """:meth:`forward` on row stripes (exact; inference).

        Args:
            normed (RowSource): ``instance_norm(x)`` (B, norm_channels,
                H, W), e.g. :func:`~.row_tiling.normalize_rows`.
            prior (RowSource): Prior map already at (H, W).

        Returns:
            RowSource: Modulated features (B, norm_channels, H, W).
        """
        if (prior.height, prior.width) != (normed.height, normed.width):
            raise ValueError('SPNSPADE.rows: the prior must have the size '
                             'of x')
        if prior.channels != self.label_channels:
            raise ValueError(f'SPNSPADE.rows: expected a prior with '
                             f'{self.label_channels} channels, got '
                             f'{prior.channels}')
        actv = conv_rows(prior, self.shared_conv, post=torch.relu_).cached()
        if self.fused and not self.training:
            c = self.norm_channels
            gb = conv_rows(actv, self.conv_gamma, self.fused_weight,
                           self.fused_bias)

            def modulate(n: Tensor, g: Tensor) -> Tensor:
                gamma, beta = g.split(c, dim=1)
                return n * (1 + gamma) + beta

            return map_rows(modulate, normed, gb)
        return map_rows(lambda n, g, b: n * (1 + g) + b, normed,
                        conv_rows(actv, self.conv_gamma),
                        conv_rows(actv, self.conv_beta))


@MODELS.register_module()
class SPNSPADEResBlock(BaseModule):
    """SPADE residual block with identity shortcut (SPN middle blocks).

    Main path (official ``ResnetBlock_Spade``): SPADE -> ReLU -> reflect pad
    ``dilation`` -> 3x3 conv (dilation) -> SPADE -> ReLU -> reflect pad 1 ->
    3x3 conv. Output = ``x + main(x)``, no final activation.

    Args:
        channels (int): Feature channels (in = out).
        prior_channels (int): Channels of the conditioning prior.
        dilation (int): Dilation of the first conv. Default: 2.
        hidden_channels (int): SPADE hidden width. Default: 128.
        cap_hidden (bool): See :class:`SPNSPADE`. Default: False.
        init_cfg (dict, optional): Initialisation config. Default: None.
    """

    def __init__(self,
                 channels: int,
                 prior_channels: int,
                 dilation: int = 2,
                 hidden_channels: int = 128,
                 cap_hidden: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        spade = dict(hidden_channels=hidden_channels, cap_hidden=cap_hidden)
        self.norm1 = SPNSPADE(channels, prior_channels, **spade)
        self.conv1 = nn.Conv2d(
            channels,
            channels,
            3,
            padding=dilation,
            dilation=dilation,
            padding_mode='reflect')
        self.norm2 = SPNSPADE(channels, prior_channels, **spade)
        self.conv2 = nn.Conv2d(
            channels, channels, 3, padding=1, padding_mode='reflect')

    def forward(self, x: Tensor, prior: Tensor) -> Tensor:
        """Forward.

        Args:
            x (Tensor): Features (B, C, H, W).
            prior (Tensor): Prior map (B, P, H, W).

        Returns:
            Tensor: (B, C, H, W).
        """
        out = self.conv1(F.relu(self.norm1(x, prior)))
        out = self.conv2(F.relu(self.norm2(out, prior)))
        return x + out


@MODELS.register_module()
class SPNSPADEShortcutResBlock(BaseModule):
    """SPADE residual block with a learned shortcut (SPN decoder blocks).

    Official ``ResnetBlock_Spade_MaskG``. With ``mid = min(in, out)``:

    * main: SPADE(in) -> LReLU(0.2) -> 3x3 conv in->mid (zero pad 1) ->
      SPADE(mid) -> LReLU(0.2) -> 3x3 conv mid->out (zero pad 1);
    * shortcut: SPADE(in) -> 3x3 conv in->out (zero pad 1), no activation.

    Output = main + shortcut. All three SPADEs are conditioned on the same
    prior map.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        prior_channels (int): Channels of the conditioning prior.
        hidden_channels (int): SPADE hidden width. Default: 128.
        cap_hidden (bool): See :class:`SPNSPADE`. Default: False.
        init_cfg (dict, optional): Initialisation config. Default: None.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 prior_channels: int,
                 hidden_channels: int = 128,
                 cap_hidden: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        mid_channels = min(in_channels, out_channels)
        spade = dict(hidden_channels=hidden_channels, cap_hidden=cap_hidden)
        self.norm1 = SPNSPADE(in_channels, prior_channels, **spade)
        self.conv1 = nn.Conv2d(in_channels, mid_channels, 3, padding=1)
        self.norm2 = SPNSPADE(mid_channels, prior_channels, **spade)
        self.conv2 = nn.Conv2d(mid_channels, out_channels, 3, padding=1)
        self.norm_s = SPNSPADE(in_channels, prior_channels, **spade)
        self.conv_s = nn.Conv2d(in_channels, out_channels, 3, padding=1)

    def forward(self, x: Tensor, prior: Tensor) -> Tensor:
        """Forward.

        Args:
            x (Tensor): Features (B, in_channels, H, W).
            prior (Tensor): Prior map (B, P, H, W).

        Returns:
            Tensor: (B, out_channels, H, W).
        """
        # norm1 and norm_s normalise the same x: its statistics once
        normed = F.instance_norm(x, eps=1e-5)
        out = self.conv1(F.leaky_relu(self.norm1(x, prior, normed), 0.2))
        out = self.conv2(F.leaky_relu(self.norm2(out, prior), 0.2))
        return out + self.conv_s(self.norm_s(x, prior, normed))

    def rows(self, x: RowSource, x_stats: Tuple[Tensor, Tensor],
             prior: RowSource, tile_pixels: int) -> RowSource:
        """:meth:`forward` on row stripes (exact; inference, no autograd).

        The main path's intermediate (B, mid, H, W) is materialised here
        (its instance-norm statistics are needed before the second SPADE);
        the output is computed lazily.

        Args:
            x (RowSource): Features (B, in_channels, H, W).
            x_stats (tuple[Tensor, Tensor]): Mean and 1/sqrt(var + 1e-5)
                of x per sample and channel, (B, in_channels, 1, 1)
                (:func:`~.row_tiling.instance_norm_stats`).
            prior (RowSource): Prior map (B, P, H, W).
            tile_pixels (int): Pixels per stripe.

        Returns:
            RowSource: (B, out_channels, H, W).
        """
        normed = normalize_rows(x, *x_stats).cached()

        def lrelu(t: Tensor) -> Tensor:
            return F.leaky_relu(t, 0.2, inplace=True)

        mid = materialize(
            conv_rows(map_rows(lrelu, self.norm1.rows(normed, prior)),
                      self.conv1), tile_pixels)
        mid_stats = instance_norm_stats(
            lambda c0, c1: mid[:, c0:c1], mid.shape[1],
            norm_chunk_channels(tile_pixels, *mid.shape[-2:]))
        mid_normed = normalize_rows(tensor_rows(mid), *mid_stats)
        main = conv_rows(
            map_rows(lrelu, self.norm2.rows(mid_normed, prior)), self.conv2)
        short = conv_rows(self.norm_s.rows(normed, prior), self.conv_s)
        return map_rows(torch.add, main, short)


def plain_main_path(in_channels: int, out_channels: int,
                    dilation: int) -> Tuple[nn.Conv2d, nn.Conv2d]:
    """The two convs of the official plain residual blocks' main path.

    reflect pad ``dilation`` -> 3x3 conv in->out (dilation) and reflect
    pad 1 -> 3x3 conv out->out (the ReLU between them is the caller's).

    Returns:
        tuple[nn.Conv2d, nn.Conv2d]: ``(conv1, conv2)``.
    """
    conv1 = nn.Conv2d(
        in_channels,
        out_channels,
        3,
        padding=dilation,
        dilation=dilation,
        padding_mode='reflect')
    conv2 = nn.Conv2d(
        out_channels, out_channels, 3, padding=1, padding_mode='reflect')
    return conv1, conv2


@MODELS.register_module()
class SPNResBlock(BaseModule):
    """Plain residual block with identity shortcut (official ``ResnetBlock``).

    reflect pad -> 3x3 conv (dilation) -> ReLU -> reflect pad 1 -> 3x3 conv;
    output = ``x + main(x)``; no normalisation, no final activation.

    Args:
        channels (int): Feature channels (in = out).
        dilation (int): Dilation of the first conv. Default: 1.
        init_cfg (dict, optional): Initialisation config. Default: None.
    """

    def __init__(self,
                 channels: int,
                 dilation: int = 1,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.conv1, self.conv2 = plain_main_path(channels, channels, dilation)

    def forward(self, x: Tensor) -> Tensor:
        """Forward.

        Args:
            x (Tensor): (B, C, H, W).

        Returns:
            Tensor: (B, C, H, W).
        """
        return x + self.conv2(F.relu(self.conv1(x)))


@MODELS.register_module()
class SPNShortcutResBlock(BaseModule):
    """Plain residual block with a learned 3x3 shortcut.

    Official ``ResnetBlock_withshort``: main = reflect pad -> 3x3 conv
    in->out (dilation) -> ReLU -> reflect pad 1 -> 3x3 conv out->out;
    shortcut = reflect pad 1 -> 3x3 conv in->out. Output = main + shortcut,
    no final activation.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        dilation (int): Dilation of the first main-path conv. Default: 1.
        init_cfg (dict, optional): Initialisation config. Default: None.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 dilation: int = 1,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.conv1, self.conv2 = plain_main_path(in_channels, out_channels,
                                                 dilation)
        self.shortcut = nn.Conv2d(
            in_channels, out_channels, 3, padding=1, padding_mode='reflect')

    def forward(self, x: Tensor) -> Tensor:
        """Forward.

        Args:
            x (Tensor): (B, in_channels, H, W).

        Returns:
            Tensor: (B, out_channels, H, W).
        """
        return self.conv2(F.relu(self.conv1(x))) + self.shortcut(x)

    def rows(self, x: RowSource) -> RowSource:
        """:meth:`forward` on row stripes (exact; inference).

        Args:
            x (RowSource): (B, in_channels, H, W).

        Returns:
            RowSource: (B, out_channels, H, W).
        """
        x = x.cached()  # read by the main path, then by the shortcut
        main = conv_rows(
            conv_rows(x, self.conv1, post=torch.relu_), self.conv2)
        return map_rows(torch.add, main, conv_rows(x, self.shortcut))


@MODELS.register_module()
class SPNResidualDenseBlock(BaseModule):
    """Residual dense block (RDB) of the SPN prior learner's RDN trunk.

    Zhang et al., "Residual Dense Network for Image Super-Resolution",
    CVPR 2018. Dense layer ``k`` applies a 3x3 conv
    ``(C + k * G) -> G`` + ReLU to the concatenation of the input and all
    previous layer outputs; local feature fusion (1x1 conv
    ``(C + L * G) -> C``) and a local residual connection follow.

    Args:
        channels (int): Input/output channels C. Default: 256.
        growth_channels (int): Growth rate G. Default: 32.
        num_layers (int): Number of dense layers L. Default: 6.
        init_cfg (dict, optional): Initialisation config. Default: None.
    """

    def __init__(self,
                 channels: int = 256,
                 growth_channels: int = 32,
                 num_layers: int = 6,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.dense_layers = nn.ModuleList([
            nn.Conv2d(
                channels + k * growth_channels, growth_channels, 3, padding=1)
            for k in range(num_layers)
        ])
        self.local_fusion = nn.Conv2d(channels + num_layers * growth_channels,
                                      channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        """Forward.

        Args:
            x (Tensor): (B, C, H, W).

        Returns:
            Tensor: (B, C, H, W).
        """
        feat = x
        for conv in self.dense_layers:
            feat = torch.cat([feat, F.relu(conv(feat))], dim=1)
        return self.local_fusion(feat) + x
