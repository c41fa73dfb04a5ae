"""Exact row-stripe evaluation of convolutional stages (low-memory inference).

A :class:`RowSource` is a (B, C, H, W) feature map whose rows are computed
on demand (``rows(start, stop)``). Convolutions, pixel shuffle, nearest 2x
up-sampling and element-wise maps are expressed as sources over sources,
and :func:`materialize` evaluates a source stripe by stripe into one
tensor, so that only the result and one stripe of every intermediate are
alive at a time.

Every operation is exact: a convolution stripe is computed from the input
rows it needs (its halo) and the image borders are padded as the whole-image
convolution pads them (zeros, or ``reflect`` indices of the full image, not
of the stripe). Whole-image statistics (instance and region normalisation)
are computed first, over the whole map but a few channels at a time, by the
same kernel as the whole-image forward (:func:`instance_norm_stats`; they
are per channel, so bit for bit the same), and applied stripe by stripe
afterwards with the kernel's rounding (:func:`normalize_rows`). Stripe
convolutions give the whole-image values (bit for bit in the tests on this
CPU); what remains is float32 rounding where a caller changes the order of
a sum (the prior learner's global feature fusion).

Used by :class:`SPNGenerator` with ``low_memory=True`` through the
``tile_pixels`` argument of the stages of :class:`SemanticPriorLearner` and
:class:`SPADEGenerator`.
"""
from typing import Callable, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

# Default number of pixels (rows x width) of one stripe: 64 rows at 1024
# wide, i.e. 32 MB for a 128-channel fp32 stripe.
DEFAULT_TILE_PIXELS = 2**16


class RowSource:
    """A (B, C, H, W) map whose rows are computed on demand.

    Args:
        fetch (Callable[[int, int], Tensor]): ``fetch(start, stop)`` returns
            rows ``[start, stop)`` as (B, C, stop - start, W), with
            ``0 <= start < stop <= height``.
        channels (int): C.
        height (int): H.
        width (int): W.
        cache (bool): Keep the last fetched stripe and answer requests
            inside it by slicing (for sources read by several consumers
            in turn). Default: False.
    """

    def __init__(self,
                 fetch: Callable[[int, int], Tensor],
                 channels: int,
                 height: int,
                 width: int,
                 cache: bool = False) -> None:
        self.fetch = fetch
        self.channels = channels
        self.height = height
        self.width = width
        self.cache = cache
        self._last: Optional[Tuple[int, int, Tensor]] = None

    def rows(self, start: int, stop: int) -> Tensor:
        """Rows ``[start, stop)`` (B, C, stop - start, W)."""
        if not 0 <= start < stop <= self.height:
            raise ValueError(f'RowSource: rows [{start}, {stop}) outside '
                             f'[0, {self.height})')
        if self.cache and self._last is not None:
            a, b, t = self._last
            if a <= start and stop <= b:
                return t[:, :, start - a:stop - a]
        t = self.fetch(start, stop)
        if self.cache:
            self._last = (start, stop, t)
        return t

    def cached(self) -> 'RowSource':
        """The same source with a one-stripe cache."""
        return RowSource(self.fetch, self.channels, self.height, self.width,
                         cache=True)


def tensor_rows(x: Tensor) -> RowSource:
    """A materialised (B, C, H, W) tensor as a :class:`RowSource`."""
    return RowSource(lambda a, b: x[:, :, a:b], x.shape[1], x.shape[2],
                     x.shape[3])


def stripe_rows(tile_pixels: int, width: int) -> int:
    """Rows per stripe of ``width`` pixels for about ``tile_pixels`` pixels
    (at least 1)."""
    if not isinstance(tile_pixels, int) or tile_pixels < 1:
        raise ValueError(f'tile_pixels must be an int >= 1, got '
                         f'{tile_pixels!r}')
    return max(1, tile_pixels // width)


def materialize(src: RowSource, tile_pixels: int) -> Tensor:
    """Evaluate ``src`` stripe by stripe into one (B, C, H, W) tensor."""
    step = stripe_rows(tile_pixels, src.width)
    out = None
    for a in range(0, src.height, step):
        b = min(src.height, a + step)
        part = src.rows(a, b)
        if out is None:
            out = part.new_empty(
                (part.shape[0], src.channels, src.height, src.width))
        out[:, :, a:b] = part
    return out


def map_rows(fn: Callable[..., Tensor],
             *srcs: RowSource,
             channels: Optional[int] = None) -> RowSource:
    """Element-wise (row-local) ``fn`` of sources of equal height/width."""
    first = srcs[0]
    return RowSource(lambda a, b: fn(*[s.rows(a, b) for s in srcs]),
                     first.channels if channels is None else channels,
                     first.height, first.width)


def cat_rows(*srcs: RowSource) -> RowSource:
    """Channel concatenation (``torch.cat(dim=1)``) of sources."""
    return map_rows(
        lambda *xs: torch.cat(xs, dim=1),
        *srcs,
        channels=sum(s.channels for s in srcs))


def repeat_rows(src: RowSource, times: int) -> RowSource:
    """``x.repeat(times, 1, 1, 1)`` (the batch stacked ``times`` times)."""
    return map_rows(lambda t: t.repeat(times, 1, 1, 1), src)


def as_rows(x) -> RowSource:
    """``x`` if it is a :class:`RowSource`, else :func:`tensor_rows`."""
    return x if isinstance(x, RowSource) else tensor_rows(x)


def _coarse_range(a: int, b: int) -> Tuple[int, int]:
    """Rows of a 2x-coarser map covering fine rows ``[a, b)``."""
    return a // 2, (b - 1) // 2 + 1


def up2_rows(src: RowSource) -> RowSource:
    """Nearest 2x up-sampling (``F.interpolate(scale_factor=2)``)."""

    def fetch(a: int, b: int) -> Tensor:
        a0, b0 = _coarse_range(a, b)
        up = F.interpolate(src.rows(a0, b0), scale_factor=2, mode='nearest')
        return up[:, :, a - 2 * a0:b - 2 * a0]

    return RowSource(fetch, src.channels, 2 * src.height, 2 * src.width)


def pixel_shuffle_rows(src: RowSource) -> RowSource:
    """``F.pixel_shuffle(x, 2)``: (B, 4C, H, W) -> (B, C, 2H, 2W)."""

    def fetch(a: int, b: int) -> Tensor:
        a0, b0 = _coarse_range(a, b)
        up = F.pixel_shuffle(src.rows(a0, b0), 2)
        return up[:, :, a - 2 * a0:b - 2 * a0]

    return RowSource(fetch, src.channels // 4, 2 * src.height,
                     2 * src.width)


def conv_rows(src: RowSource,
              conv: nn.Conv2d,
              weight: Optional[Tensor] = None,
              bias: Optional[Tensor] = None,
              post: Optional[Callable[[Tensor], Tensor]] = None) -> RowSource:
    """``conv(x)`` (then ``post``) computed on row stripes with a halo.

    Padding, stride and dilation are those of ``conv``
    (``padding_mode`` ``'zeros'`` or ``'reflect'``, reproduced at the
    full-image borders).

    Args:
        src (RowSource): The input map x.
        conv (nn.Conv2d): Gives the geometry, and the weights unless
            ``weight`` is given.
        weight (Tensor, optional): Weights to use instead of
            ``conv.weight`` (e.g. a fused gamma/beta convolution).
        bias (Tensor, optional): Bias used together with ``weight``.
        post (Callable, optional): Applied to each output stripe (e.g. an
            in-place ReLU).

    Returns:
        RowSource: The output map.
    """
    if isinstance(conv.padding, str):
        raise ValueError('conv_rows: string padding is not supported')
    if conv.padding_mode not in ('zeros', 'reflect'):
        raise ValueError('conv_rows: padding_mode must be zeros or reflect, '
                         f'got {conv.padding_mode!r}')
    if weight is None:
        weight, bias = conv.weight, conv.bias
    kh, kw = conv.kernel_size
    sh, sw = conv.stride
    ph, pw = conv.padding
    dh, dw = conv.dilation
    h, w = src.height, src.width
    out_h = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    out_w = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    reflect = conv.padding_mode == 'reflect'
    if reflect and (ph >= h or pw >= w):
        raise ValueError('conv_rows: reflect padding needs pad < size')

    def fetch(a: int, b: int) -> Tensor:
        lo = a * sh - ph  # first needed input row (image coordinates)
        hi = (b - 1) * sh - ph + dh * (kh - 1) + 1  # exclusive
        if reflect:
            if lo >= 0 and hi <= h:
                x = src.rows(lo, hi)
            else:
                idx = torch.arange(lo, hi).abs()
                idx = torch.where(idx > h - 1, 2 * (h - 1) - idx, idx)
                a0, b0 = int(idx.min()), int(idx.max()) + 1
                x = src.rows(a0, b0).index_select(
                    2, (idx - a0).to(weight.device))
            if pw:
                x = F.pad(x, (pw, pw, 0, 0), mode='reflect')
            y = F.conv2d(x, weight, bias, conv.stride, 0, conv.dilation,
                         conv.groups)
        else:
            a0, b0 = max(lo, 0), min(hi, h)
            x = src.rows(a0, b0)
            if a0 > lo or hi > b0:
                x = F.pad(x, (0, 0, a0 - lo, hi - b0))
            y = F.conv2d(x, weight, bias, conv.stride, (0, pw),
                         conv.dilation, conv.groups)
        return y if post is None else post(y)

    return RowSource(fetch, weight.shape[0], out_h, out_w)


def norm_chunk_channels(tile_pixels: int, height: int, width: int) -> int:
    """Channels per chunk of whole-map statistics (about
    ``8 * tile_pixels`` elements per sample, at least 1)."""
    return max(1, 8 * tile_pixels // (height * width))


def instance_norm_stats(chunk: Callable[[int, int], Tensor],
                        channels: int,
                        group: int,
                        eps: float = 1e-5) -> Tuple[Tensor, Tensor]:
    """Per-sample, per-channel mean and 1/sqrt(var + eps) of
    ``F.instance_norm``, computed by the same kernel a few channels at a
    time (instance-norm statistics are per channel, so this is exactly the
    whole-map result, bit for bit).

    Args:
        chunk (Callable[[int, int], Tensor]): ``chunk(c0, c1)`` gives
            channels ``[c0, c1)`` of the whole map, (B, c1 - c0, H, W).
        channels (int): C.
        group (int): Channels per chunk.
        eps (float): Default: 1e-5.

    Returns:
        tuple[Tensor, Tensor]: ``(mean, invstd)``, (B, C, 1, 1).
    """
    means, invstds = [], []
    for c0 in range(0, channels, group):
        # contiguous, as the whole map (a strided view would take the
        # kernel's other path, which rounds differently)
        x = chunk(c0, min(channels, c0 + group)).contiguous()
        b, c, h, w = x.shape
        _, mean, invstd = torch.native_batch_norm(
            x.view(1, b * c, h, w), None, None, None, None, True, 0.0, eps)
        means.append(mean.view(b, c, 1, 1))
        invstds.append(invstd.view(b, c, 1, 1))
    return torch.cat(means, dim=1), torch.cat(invstds, dim=1)


def normalize_rows(src: RowSource, mean: Tensor,
                   invstd: Tensor) -> RowSource:
    """``(x - mean) * invstd`` row by row (mean, invstd (B, C, 1, 1)),
    rounded as the CPU instance-norm kernel rounds it: ``x * alpha + beta``
    as one fused multiply-add with ``alpha = invstd`` and ``beta = -mean *
    invstd``."""
    beta = -(mean * invstd)
    return map_rows(lambda x: torch.addcmul(beta, x, invstd), src)
