"""Small helpers shared by the SPN losses."""
from typing import Sequence

import torch.nn.functional as F
from torch import Tensor


def repeat_to_batch(tensor: Tensor, batch: int, name: str) -> Tensor:
    """Repeat ``tensor`` along the batch so that it has ``batch`` items.

    In the probabilistic setup the generator stacks ``K`` samples on the
    batch as ``[all inputs sample 1; all inputs sample 2; ...]`` (batch
    ``K*B``) while masks, ground truths and teacher targets have batch ``B``.
    They are repeated ``K`` times in the same order
    (``tensor.repeat(K, 1, ...)`` == ``cat([t] * K)``).

    Args:
        tensor (Tensor): Tensor of shape (B, ...).
        batch (int): Wanted batch size (``B`` or ``K*B``).
        name (str): Name used in error messages.

    Returns:
        Tensor: Shape (batch, ...).
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f'{name} must be a torch.Tensor, got {type(tensor)}')
    n = tensor.size(0)
    if n == batch:
        return tensor
    if n == 0 or batch % n != 0:
        raise ValueError(
            f'{name} has batch {n}, which does not divide the prediction '
            f'batch {batch}; expected {batch} or {batch}/K for K samples '
            'stacked on the batch.')
    return tensor.repeat(batch // n, *([1] * (tensor.dim() - 1)))


def check_mask(mask: Tensor, name: str = 'mask') -> None:
    """Check that ``mask`` is a (B, 1, H, W) tensor (1 = hole)."""
    if not isinstance(mask, Tensor) or mask.dim() != 4 or mask.size(1) != 1:
        shape = tuple(mask.shape) if isinstance(mask, Tensor) else type(mask)
        raise ValueError(
            f'{name} must be a (B, 1, H, W) tensor with 1 = hole, got '
            f'{shape}')


def resize_mask(mask: Tensor, size: Sequence[int]) -> Tensor:
    """Nearest-resize a (B, 1, H, W) mask to ``size`` (official behaviour:
    ``F.interpolate(mask, size, mode='nearest')``, i.e. plain subsampling
    when down-scaling)."""
    if tuple(mask.shape[-2:]) == tuple(size):
        return mask
    return F.interpolate(mask, size=tuple(size), mode='nearest')


def check_same_shape(pred: Tensor, target: Tensor, name: str) -> None:
    """Raise a ValueError naming ``name`` when the shapes differ."""
    if pred.shape != target.shape:
        raise ValueError(f'{name}: prediction shape {tuple(pred.shape)} and '
                         f'target shape {tuple(target.shape)} differ.')
