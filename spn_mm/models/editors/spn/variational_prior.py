from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor
from torch.distributions import Normal

from spn_mm.registry import MODELS


@MODELS.register_module()
class VariationalPrior(BaseModule):
    """Variational inference plug-in of the SPN prior learner (Sec. 3.1.2).

    Zhang et al., "Fully Context-Aware Image Inpainting with a Learned
    Semantic Pyramid" (Pattern Recognition 2023), Eq. 5.

    Applied to the fused 64x64 features S_enc^L of
    :class:`SemanticPriorLearner` (official probabilistic ``G_Net``):

    * encoder: ``num_downsamples`` x (4x4 stride-2 conv + LeakyReLU 0.2),
      ``in -> mid -> mid -> mid`` (official 256 -> 512 -> 512 -> 512, 64 -> 8
      spatially);
    * ``mu``: 1x1 conv mid -> latent; ``sigma``: 1x1 conv mid -> latent
      followed by softplus, used directly as the standard deviation (no
      epsilon). q = N(mu, sigma) is conditioned on the masked input only (no
      ground-truth posterior) and is sampled in training and testing alike;
    * z ~ q by reparameterisation (``mu + eps * sigma``);
    * decoder: ``num_downsamples`` x (3x3 conv -> 4 * out, PixelShuffle(2),
      ReLU), latent -> out -> out -> out (official 128 -> 256, 8 -> 64).

    The decoded map is concatenated after S_enc^L and fed to the learner's
    first (learned-shortcut) residual block.

    Samples are stacked on the batch as ``[all inputs sample 1; all inputs
    sample 2; ...]``. Seeded sampling uses one CPU ``torch.Generator`` per
    image, so image ``i``'s samples depend only on its own seed (not on the
    batch size), and sample ``k`` does not depend on how many samples are
    drawn.

    Args:
        in_channels (int): Channels of S_enc^L. Default: 256.
        mid_channels (int): Encoder width. Default: 512.
        latent_channels (int): Channels of z. Default: 128.
        out_channels (int): Channels of the decoded map. Default: 256.
        num_downsamples (int): Encoder stride-2 convs = decoder pixel
            shuffles. Default: 3.
        num_samples (int): Samples per input in training (official 2).
            Default: 2.
        init_cfg (dict, optional): Initialisation config. Default: None.
    """

    def __init__(self,
                 in_channels: int = 256,
                 mid_channels: int = 512,
                 latent_channels: int = 128,
                 out_channels: int = 256,
                 num_downsamples: int = 3,
                 num_samples: int = 2,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_downsamples < 1:
            raise ValueError('VariationalPrior: num_downsamples must be >= 1, '
                             f'got {num_downsamples}')
        if num_samples < 1:
            raise ValueError('VariationalPrior: num_samples must be >= 1, '
                             f'got {num_samples}')
        self.in_channels = in_channels
        self.latent_channels = latent_channels
        self.out_channels = out_channels
        self.num_downsamples = num_downsamples
        self.num_samples = num_samples

        enc = []
        ch = in_channels
        for _ in range(num_downsamples):
            enc += [
                nn.Conv2d(ch, mid_channels, 4, stride=2, padding=1),
                nn.LeakyReLU(0.2)
            ]
            ch = mid_channels
        self.encoder = nn.Sequential(*enc)
        self.conv_mu = nn.Conv2d(mid_channels, latent_channels, 1)
        self.conv_sigma = nn.Conv2d(mid_channels, latent_channels, 1)

        dec = []
        ch = latent_channels
        for _ in range(num_downsamples):
            dec += [
                nn.Conv2d(ch, 4 * out_channels, 3, padding=1),
                nn.PixelShuffle(2),
                nn.ReLU()
            ]
            ch = out_channels
        self.decoder = nn.Sequential(*dec)

    def distribution(self, feat: Tensor) -> Normal:
        """Input-conditioned Gaussian q(z | S_enc^L).

        Args:
            feat (Tensor): S_enc^L (B, in_channels, h, w), ``h`` and ``w``
                divisible by ``2 ** num_downsamples``.

        Returns:
            Normal: ``N(mu, softplus(sigma))`` with batch shape
            (B, latent_channels, h / 2**n, w / 2**n).
        """
        if feat.dim() != 4 or feat.shape[1] != self.in_channels:
            raise ValueError(
                f'VariationalPrior: expected features of shape '
                f'(B, {self.in_channels}, h, w), got {tuple(feat.shape)}')
        step = 2**self.num_downsamples
        if feat.shape[2] % step or feat.shape[3] % step:
            raise ValueError(
                f'VariationalPrior: feature height/width must be multiples of '
                f'{step}, got {tuple(feat.shape)}; the image must be a '
                f'multiple of {4 * step} pixels')
        h = self.encoder(feat)
        mu = self.conv_mu(h)
        std = F.softplus(self.conv_sigma(h))
        return Normal(mu, std, validate_args=False)

    @staticmethod
    def seeded_noise(seeds: Sequence[int], num_samples: int,
                     shape: Sequence[int]) -> Tensor:
        """Standard-normal noise, one CPU generator per image.

        Args:
            seeds (Sequence[int]): One seed per input image.
            num_samples (int): K samples per image.
            shape (Sequence[int]): (latent, h', w') of one sample.

        Returns:
            Tensor: (K * B, latent, h', w') float32 on the CPU, ordered
            ``[all inputs sample 1; ...]``; image ``i``'s noise depends on
            ``seeds[i]`` only (not on the batch it is in).
        """
        eps = []
        for seed in seeds:
            gen = torch.Generator(device='cpu')
            gen.manual_seed(int(seed))
            eps.append(
                torch.randn((num_samples, ) + tuple(shape),
                            generator=gen,
                            dtype=torch.float32))
        # (B, K, ...) -> (K, B, ...) -> (K * B, ...)
        return torch.stack(eps).transpose(0, 1).flatten(0, 1)

    @classmethod
    def sample(cls,
               dist: Normal,
               num_samples: int = 1,
               seeds: Optional[Sequence[int]] = None,
               mode: str = 'random',
               noise: Optional[Tensor] = None) -> Tensor:
        """Draw latent samples.

        Args:
            dist (Normal): Output of :meth:`distribution`, batch B.
            num_samples (int): K samples per input. Default: 1.
            seeds (Sequence[int], optional): One seed per input image (see
                :meth:`seeded_noise`). None uses the global RNG
                (differentiable ``rsample``). Default: None.
            mode (str): ``'random'`` (reparameterised sample) or ``'mean'``
                (``z = mu``, deterministic). Default: ``'random'``.
            noise (Tensor, optional): Explicit standard-normal noise
                (K * B, latent, h', w'): ``z = mu + noise * sigma`` (ONNX
                export). Default: None.

        Returns:
            Tensor: z (K * B, latent, h', w'), ordered ``[all inputs sample
            1; all inputs sample 2; ...]``.
        """
        if mode not in ('random', 'mean'):
            raise ValueError("VariationalPrior.sample: mode must be 'random' "
                             f"or 'mean', got {mode!r}")
        if num_samples < 1:
            raise ValueError('VariationalPrior.sample: num_samples must be '
                             f'>= 1, got {num_samples}')
        mu, std = dist.loc, dist.scale
        if mode == 'mean':
            return mu.repeat(num_samples, 1, 1, 1)
        if noise is None and seeds is None:
            return torch.cat([dist.rsample() for _ in range(num_samples)])
        if noise is None:
            seeds = list(seeds)
            if len(seeds) != mu.shape[0]:
                raise ValueError(
                    'VariationalPrior.sample: need one seed per image, got '
                    f'{len(seeds)} seeds for a batch of {mu.shape[0]}')
            noise = cls.seeded_noise(seeds, num_samples, mu.shape[1:])
        expected = (num_samples * mu.shape[0], ) + tuple(mu.shape[1:])
        if tuple(noise.shape) != expected:
            raise ValueError('VariationalPrior.sample: noise must have shape '
                             f'{expected}, got {tuple(noise.shape)}')
        noise = noise.to(device=mu.device, dtype=mu.dtype)
        mu = mu.repeat(num_samples, 1, 1, 1)
        std = std.repeat(num_samples, 1, 1, 1)
        return mu + noise * std

    def decode(self, z: Tensor) -> Tensor:
        """Decode z to the prior-learner resolution.

        Args:
            z (Tensor): (N, latent_channels, h', w').

        Returns:
            Tensor: (N, out_channels, h' * 2**n, w' * 2**n).
        """
        return self.decoder(z)

    def forward(self,
                feat: Tensor,
                num_samples: Optional[int] = None,
                seeds: Optional[Sequence[int]] = None,
                mode: str = 'random',
                noise: Optional[Tensor] = None) -> Tuple[Tensor, Normal]:
        """Sample and decode.

        Args:
            feat (Tensor): S_enc^L (B, in_channels, h, w).
            num_samples (int, optional): K; None uses ``self.num_samples``.
            seeds (Sequence[int], optional): Per-image seeds, see
                :meth:`sample`.
            mode (str): ``'random'`` or ``'mean'``.
            noise (Tensor, optional): Explicit noise, see :meth:`sample`.

        Returns:
            tuple[Tensor, Normal]: Decoded maps (K * B, out_channels, h, w)
            and q with batch B.
        """
        if num_samples is None:
            num_samples = self.num_samples
        dist = self.distribution(feat)
        z = self.sample(dist, num_samples, seeds=seeds, mode=mode, noise=noise)
        return self.decode(z), dist
