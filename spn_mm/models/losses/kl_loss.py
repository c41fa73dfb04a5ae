from typing import Optional, Tuple, Union

import torch
import torch.nn as nn
from torch import Tensor
from torch.distributions import Normal

from spn_mm.registry import MODELS


@MODELS.register_module()
class GaussianKLLoss(nn.Module):
    """KL divergence between the latent posterior and N(0, I) (SPN Eq. 6).

    With ``q = N(mu, sigma)`` (``sigma`` is the standard deviation, i.e. the
    official ``softplus`` output) and ``p = N(0, I)``, per element:

    * ``direction='standard'`` (paper Eq. 6, the usual VAE term, default):
      ``KL(q || p) = 1/2 (sigma^2 + mu^2 - 1 - log sigma^2)``.
    * ``direction='official'`` (released code, argument order reversed):
      ``KL(p || q) = 1/2 (1/sigma^2 + mu^2/sigma^2 - 1 + log sigma^2)``.

    Reduction: mean over **all elements** (B*C*H*W of the latent), then
    multiplied by ``loss_weight`` (official/paper lambda_5 = 0.05).

    Args:
        loss_weight (float): Weight. Default: 0.05.
        direction (str): ``'standard'`` or ``'official'``.
            Default: ``'standard'``.
    """

    _DIRECTIONS = ('standard', 'official')

    def __init__(self,
                 loss_weight: float = 0.05,
                 direction: str = 'standard') -> None:
        super().__init__()
        if direction not in self._DIRECTIONS:
            raise ValueError(f'GaussianKLLoss: direction must be one of '
                             f'{self._DIRECTIONS}, got {direction!r}')
        self.loss_weight = float(loss_weight)
        self.direction = direction

    @staticmethod
    def _unpack(dist: Union[Normal, Tuple[Tensor, Tensor], Tensor],
                sigma: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
        if isinstance(dist, Normal):
            if sigma is not None:
                raise ValueError('GaussianKLLoss: pass either a Normal or '
                                 '(mu, sigma), not both.')
            return dist.loc, dist.scale
        if isinstance(dist, (tuple, list)):
            if sigma is not None or len(dist) != 2:
                raise ValueError('GaussianKLLoss: dist given as a sequence '
                                 'must be exactly (mu, sigma).')
            mu, sigma = dist
        else:
            mu = dist
        if not isinstance(mu, Tensor) or not isinstance(sigma, Tensor):
            raise TypeError(
                'GaussianKLLoss.forward expects a torch.distributions.Normal '
                'or tensors (mu, sigma) (sigma = standard deviation).')
        if mu.shape != sigma.shape:
            mu, sigma = torch.broadcast_tensors(mu, sigma)
        return mu, sigma

    def forward(self,
                dist: Union[Normal, Tuple[Tensor, Tensor], Tensor],
                sigma: Optional[Tensor] = None) -> Tensor:
        """Compute the loss.

        Args:
            dist (Normal | tuple[Tensor, Tensor] | Tensor): The posterior
                ``q`` as a ``torch.distributions.Normal``, as ``(mu, sigma)``
                or as ``mu`` with ``sigma`` given separately. Any shape,
                e.g. (B, 128, 8, 8).
            sigma (Tensor, optional): Standard deviation when ``dist`` is
                ``mu``. Default: None.

        Returns:
            Tensor: Weighted scalar loss.
        """
        mu, sigma = self._unpack(dist, sigma)
        var = sigma.pow(2)
        log_var = 2. * torch.log(sigma)
        if self.direction == 'standard':
            kl = 0.5 * (var + mu.pow(2) - 1. - log_var)
        else:
            kl = 0.5 * ((1. + mu.pow(2)) / var - 1. + log_var)
        return self.loss_weight * kl.mean()
