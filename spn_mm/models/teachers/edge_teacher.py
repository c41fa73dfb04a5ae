"""Weight-free edge-map targets ("SPN w/ edge", paper Sec. 4.4.2)."""
import math
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from spn_mm.registry import MODELS
from .base_teacher import BaseTeacher

# ITU-R BT.601 luma weights (RGB)
_LUMA = (0.299, 0.587, 0.114)


@MODELS.register_module()
class EdgeTeacher(BaseTeacher):
    """Edge maps of the full image at every pyramid level.

    The EC-style structural prior the paper compares against. For each
    returned level l the [0, 1] 2x view is converted to luma, area-resized to
    the level size ``(H / 2**l, W / 2**l)``, smoothed with a Gaussian of
    ``sigma`` pixels and differentiated with Sobel filters (normalised by 1/8,
    so a unit step gives a gradient of 0.5; replicate padding). Then

    * ``mode='sobel'``: the gradient magnitude (1 channel), or magnitude,
      gx, gy (3 channels) with ``return_xy=True``;
    * ``mode='canny'``: a Canny-like binary map (1 channel): non-maximum
      suppression along the gradient direction quantised to 0/45/90/135
      degrees, double threshold (``low_threshold``/``high_threshold`` on the
      magnitude) and hysteresis by ``hysteresis_iters`` 3x3 dilations of the
      strong edges inside the weak ones.

    It has no weights, so checkpoints and ``init_weights`` are no-ops.

    Args:
        num_levels (int): Pyramid levels (fine -> coarse). Default: 3.
        num_scales (int, optional): Coarsest levels returned. Default: None
            (all).
        mode (str): ``'sobel'`` or ``'canny'``. Default: ``'canny'``.
        sigma (float): Gaussian smoothing (pixels of each level); 0 disables
            it. Default: 1.0.
        return_xy (bool): Sobel mode: also return gx, gy. Default: False.
        low_threshold (float): Canny weak threshold. Default: 0.05.
        high_threshold (float): Canny strong threshold. Default: 0.1.
        hysteresis_iters (int): Canny hysteresis dilations. Default: 4.
        with_color (bool): Also return the level's area-resized RGB image
            (3 more channels after the edge channels): a smooth colour
            "structure" prior in the spirit of StructureFlow (Ren et al.,
            ICCV 2019) next to the EC-style edges. Default: False.
        upsample_factor (int): See :class:`BaseTeacher`. Default: 2.
        upsample_mode (str): See :class:`BaseTeacher`. Default: 'bilinear'.
        init_cfg (dict, optional): Unused. Default: None.
    """

    def __init__(self,
                 num_levels: int = 3,
                 num_scales: Optional[int] = None,
                 mode: str = 'canny',
                 sigma: float = 1.0,
                 return_xy: bool = False,
                 low_threshold: float = 0.05,
                 high_threshold: float = 0.1,
                 hysteresis_iters: int = 4,
                 with_color: bool = False,
                 upsample_factor: int = 2,
                 upsample_mode: str = 'bilinear',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            num_levels=num_levels,
            num_scales=num_scales,
            upsample_factor=upsample_factor,
            upsample_mode=upsample_mode,
            init_cfg=init_cfg)
        if mode not in ('sobel', 'canny'):
            raise ValueError('EdgeTeacher: mode must be "sobel" or "canny", '
                             f'got {mode!r}')
        if return_xy and mode != 'sobel':
            raise ValueError('EdgeTeacher: return_xy needs mode="sobel"')
        if sigma < 0:
            raise ValueError(f'EdgeTeacher: sigma must be >= 0, got {sigma}')
        if not 0 <= low_threshold <= high_threshold:
            raise ValueError(
                'EdgeTeacher: need 0 <= low_threshold <= high_threshold, got '
                f'{low_threshold}, {high_threshold}')
        self.mode = mode
        self.sigma = float(sigma)
        self.return_xy = return_xy
        self.low_threshold = low_threshold
        self.high_threshold = high_threshold
        self.hysteresis_iters = int(hysteresis_iters)
        self.with_color = bool(with_color)
        sobel_x = torch.tensor([[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]
                                ]) / 8
        self.register_buffer(
            'sobel',
            torch.stack([sobel_x, sobel_x.t()])[:, None],
            persistent=False)
        self.register_buffer(
            'luma', torch.tensor(_LUMA).view(1, 3, 1, 1), persistent=False)
        self.register_buffer(
            'gauss', self._gaussian_kernel(self.sigma), persistent=False)

    @staticmethod
    def _gaussian_kernel(sigma: float) -> Tensor:
        if sigma == 0:
            return torch.ones(1, 1, 1, 1)
        radius = max(1, int(math.ceil(3 * sigma)))
        coords = torch.arange(-radius, radius + 1, dtype=torch.float32)
        g = torch.exp(-coords**2 / (2 * sigma**2))
        g = g / g.sum()
        return (g[:, None] * g[None, :])[None, None]

    @property
    def out_channels(self) -> List[int]:
        """Channels of the returned targets, fine -> coarse."""
        edges = 3 if self.return_xy else 1
        return [edges + (3 if self.with_color else 0)] * self.num_scales

    def gradients(self, gray: Tensor) -> Tuple[Tensor, Tensor]:
        """Smoothed Sobel gradients of a (B, 1, h, w) luma map."""
        pad = self.gauss.shape[-1] // 2
        if pad:
            gray = F.conv2d(
                F.pad(gray, [pad] * 4, mode='replicate'), self.gauss.to(gray))
        grad = F.conv2d(
            F.pad(gray, [1] * 4, mode='replicate'), self.sobel.to(gray))
        return grad[:, :1], grad[:, 1:]

    def canny(self, gx: Tensor, gy: Tensor) -> Tensor:
        """Canny-like binary edges from gradients, (B, 1, h, w) in {0, 1}."""
        mag = torch.sqrt(gx**2 + gy**2)
        # direction bins: 0 (horizontal gradient), 1 (45 deg), 2 (vertical),
        # 3 (135 deg); angle of the gradient in [0, 180)
        angle = torch.rad2deg(torch.atan2(gy, gx)) % 180
        bins = torch.round(angle / 45).long() % 4
        padded = F.pad(mag, [1] * 4)
        h, w = mag.shape[-2:]

        def shifted(dy: int, dx: int) -> Tensor:
            return padded[..., 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]

        # neighbours along the gradient direction for each bin (dy, dx)
        offsets = [(0, 1), (1, 1), (1, 0), (1, -1)]
        keep = torch.zeros_like(mag, dtype=torch.bool)
        for b, (dy, dx) in enumerate(offsets):
            is_max = (mag >= shifted(dy, dx)) & (mag >= shifted(-dy, -dx))
            keep |= (bins == b) & is_max
        nms = mag * keep
        strong = nms >= self.high_threshold
        weak = nms >= self.low_threshold
        edges = strong
        for _ in range(self.hysteresis_iters):
            grown = F.max_pool2d(
                edges.float(), 3, stride=1, padding=1).bool() & weak
            if torch.equal(grown, edges):
                break
            edges = grown
        return edges.to(gx.dtype)

    def extract(self, x: Tensor, sizes: List[Tuple[int, int]]) -> List[Tensor]:
        """Edge maps per level.

        Args:
            x (Tensor): (B, 3, fH, fW) RGB in [0, 1].
            sizes (list[tuple[int, int]]): Level sizes, fine -> coarse.

        Returns:
            list[Tensor]: (B, C, h_l, w_l), C = 3 (sobel + return_xy) or 1,
            plus 3 (the level's RGB in [0, 1]) with ``with_color``.
        """
        gray = (x * self.luma.to(x)).sum(dim=1, keepdim=True)
        outs = []
        for size in sizes:
            level = F.adaptive_avg_pool2d(gray, size)
            gx, gy = self.gradients(level)
            if self.mode == 'canny':
                edges = self.canny(gx, gy)
            else:
                mag = torch.sqrt(gx**2 + gy**2)
                edges = torch.cat([mag, gx, gy],
                                  dim=1) if self.return_xy else mag
            if self.with_color:
                edges = torch.cat([edges, F.adaptive_avg_pool2d(x, size)],
                                  dim=1)
            outs.append(edges)
        return outs

    def init_weights(self) -> None:
        """Nothing to initialise."""
        self._is_init = True
