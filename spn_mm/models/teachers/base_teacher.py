"""Shared machinery of SPN's frozen distillation teachers.

A teacher turns the **un-masked** ground-truth image (B, 3, H, W) in [-1, 1]
into a list of distillation targets ordered fine -> coarse (sizes H, H/2,
H/4, ...; the last ``num_scales`` of them). Every teacher

* sees a 2x up-sampled view of the image (bilinear by default; the official
  dataset resizes the photo to 512 bilinearly), converted to [0, 1] RGB;
* is frozen: no parameter requires grad, :meth:`train` keeps eval mode and
  :meth:`forward` runs under ``torch.no_grad()``;
* is **non-persistent** by default: when it is a sub-module of a bigger model
  (the inpaintors hold it as ``prior_distill.teacher``), its keys are dropped
  from the parent's ``state_dict`` (torch's and mmengine's
  ``get_state_dict``), and loading a checkpoint without teacher keys leaves
  the teacher untouched. So
  SPN checkpoints stay teacher-free. :func:`strip_teacher_keys` removes such
  keys from checkpoints written by other code, and
  :func:`exclude_teacher_from_ddp` keeps DDP from broadcasting its buffers.
"""
import itertools
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

_UPSAMPLE_MODES = ('bilinear', 'nearest', 'bicubic')


def strip_teacher_keys(state_dict: Dict[str, Tensor],
                       prefix: str = 'teacher.') -> Dict[str, Tensor]:
    """Return a copy of ``state_dict`` without the teacher's entries.

    A key is dropped when it starts with ``prefix`` or contains ``'.' +
    prefix`` (e.g. ``module.teacher.`` under a model wrapper). The input is
    not modified; the order of the kept keys is preserved.

    Args:
        state_dict (dict[str, Tensor]): A (possibly wrapped) model state dict.
        prefix (str): The teacher's attribute path plus a dot.
            Default: ``'teacher.'``.

    Returns:
        dict[str, Tensor]: The state dict without teacher keys (same type as
        the input when it is an ``OrderedDict``, with ``_metadata`` kept).
    """
    if not prefix.endswith('.'):
        raise ValueError(
            f'strip_teacher_keys: prefix must end with ".", got {prefix!r}')
    out = type(state_dict)() if isinstance(state_dict, dict) else {}
    for key, value in state_dict.items():
        if key.startswith(prefix) or ('.' + prefix) in key:
            continue
        out[key] = value
    metadata = getattr(state_dict, '_metadata', None)
    if metadata is not None:
        out._metadata = type(metadata)(
            (k, v) for k, v in metadata.items() if not (
                (k + '.').startswith(prefix) or ('.' + prefix) in (k + '.')))
    return out


def exclude_teacher_from_ddp(model: nn.Module,
                             prefix: str = 'teacher.') -> List[str]:
    """Tell ``DistributedDataParallel`` to ignore the teacher of ``model``.

    Must be called **before** ``model`` is wrapped. DDP then neither
    registers the teacher's parameters for gradient reduction nor broadcasts
    its buffers (frozen teachers are identical on every rank anyway).

    Args:
        model (nn.Module): The (unwrapped) model holding the teacher.
        prefix (str): The teacher's attribute name plus a dot; also matched
            after a dot (``prior_distill.teacher.``, like
            :func:`strip_teacher_keys`). Default: ``'teacher.'``.

    Returns:
        list[str]: The ignored parameter and buffer names.
    """
    names = [
        n for n, _ in itertools.chain(model.named_parameters(),
                                      model.named_buffers())
        if n.startswith(prefix) or ('.' + prefix) in n
    ]
    ignored = list(getattr(model, '_ddp_params_and_buffers_to_ignore', []))
    model._ddp_params_and_buffers_to_ignore = sorted(set(ignored + names))
    return names


class BaseTeacher(BaseModule):
    """Base class of frozen distillation teachers.

    Subclasses implement :meth:`extract` (on the prepared 2x view) and
    :attr:`out_channels`.

    Args:
        num_levels (int): Pyramid levels the teacher knows (fine -> coarse,
            sizes H / 2**l for l < num_levels).
        num_scales (int, optional): Number of coarsest levels returned;
            ``None`` means all ``num_levels``. Default: None.
        upsample_factor (int): Scale of the view the pretext model sees.
            Default: 2 (paper: the full image is up-sampled 2x).
        upsample_mode (str): ``'bilinear'`` (default, official: the dataset
            resizes bilinearly), ``'nearest'`` or ``'bicubic'``.
        persistent (bool): Keep the teacher's weights in a parent's
            ``state_dict``. Default: False (teacher-free checkpoints).
        init_cfg (dict, optional): Initialisation config. Default: None.
    """

    def __init__(self,
                 num_levels: int,
                 num_scales: Optional[int] = None,
                 upsample_factor: int = 2,
                 upsample_mode: str = 'bilinear',
                 persistent: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        if not isinstance(num_levels, int) or num_levels < 1:
            raise ValueError(
                f'{name}: need at least one tap/level, got {num_levels!r}')
        if num_scales is None:
            num_scales = num_levels
        if not isinstance(num_scales,
                          int) or not (1 <= num_scales <= num_levels):
            raise ValueError(
                f'{name}: num_scales must be an int in [1, {num_levels}] '
                f'(the number of taps/levels), got {num_scales!r}')
        if not isinstance(upsample_factor, int) or upsample_factor < 1:
            raise ValueError(f'{name}: upsample_factor must be a positive '
                             f'int, got {upsample_factor!r}')
        if upsample_mode not in _UPSAMPLE_MODES:
            raise ValueError(f'{name}: upsample_mode must be one of '
                             f'{_UPSAMPLE_MODES}, got {upsample_mode!r}')
        self.num_levels = num_levels
        self.num_scales = num_scales
        self.upsample_factor = upsample_factor
        self.upsample_mode = upsample_mode
        self.persistent = persistent
        self.register_state_dict_post_hook(_drop_teacher_state)

    # ------------------------------------------------------------------ #
    # frozen behaviour
    # ------------------------------------------------------------------ #
    def freeze(self) -> None:
        """Set ``requires_grad=False`` everywhere and switch to eval mode."""
        for param in self.parameters():
            param.requires_grad_(False)
        super().train(False)

    def train(self, mode: bool = True) -> 'BaseTeacher':
        """Keep eval mode whatever ``mode`` is (frozen BN statistics)."""
        return super().train(False)

    @property
    def levels(self) -> List[int]:
        """Indices (into the full fine -> coarse pyramid) that are returned."""
        return list(range(self.num_levels - self.num_scales, self.num_levels))

    @property
    def out_channels(self) -> List[int]:
        """Channels of the returned targets, fine -> coarse."""
        raise NotImplementedError

    def target_sizes(self, height: int, width: int) -> List[Tuple[int, int]]:
        """Spatial sizes of the returned targets for a base image size.

        Args:
            height (int): Base (not up-sampled) image height H.
            width (int): Base image width W.

        Returns:
            list[tuple[int, int]]: ``(H / 2**l, W / 2**l)`` for the returned
            levels, fine -> coarse.
        """
        div = 2**(self.num_levels - 1)
        if height % div or width % div:
            raise ValueError(
                f'{type(self).__name__}: image height and width must be '
                f'multiples of {div} for {self.num_levels} pyramid levels, '
                f'got {height}x{width}')
        return [(height // 2**lvl, width // 2**lvl) for lvl in self.levels]

    # ------------------------------------------------------------------ #
    # forward
    # ------------------------------------------------------------------ #
    def prepare_input(self, img: Tensor) -> Tensor:
        """Map the [-1, 1] image to [0, 1] and up-sample it.

        Args:
            img (Tensor): (B, 3, H, W) RGB in [-1, 1].

        Returns:
            Tensor: (B, 3, fH, fW) RGB in [0, 1], f = ``upsample_factor``.
        """
        if img.dim() != 4 or img.shape[1] != 3:
            raise ValueError(
                f'{type(self).__name__}: expected the un-masked image of '
                f'shape (B, 3, H, W) in [-1, 1], got {tuple(img.shape)}')
        x = (img + 1) / 2
        if self.upsample_factor != 1:
            kwargs = {} if self.upsample_mode == 'nearest' else dict(
                align_corners=False)
            x = F.interpolate(
                x,
                scale_factor=self.upsample_factor,
                mode=self.upsample_mode,
                **kwargs)
            if self.upsample_mode == 'bicubic':
                x = x.clamp(0, 1)
        return x

    def extract(self, x: Tensor, sizes: List[Tuple[int, int]]) -> List[Tensor]:
        """Compute the targets from the prepared view.

        Args:
            x (Tensor): (B, 3, fH, fW) RGB in [0, 1] (see
                :meth:`prepare_input`).
            sizes (list[tuple[int, int]]): Target sizes, fine -> coarse.

        Returns:
            list[Tensor]: Targets (B, C_l, h_l, w_l), fine -> coarse.
        """
        raise NotImplementedError

    def forward(self, img: Tensor,
                view: Optional[Tensor] = None) -> List[Tensor]:
        """Compute the distillation targets (frozen, without grad).

        Args:
            img (Tensor): Un-masked image (B, 3, H, W), RGB in [-1, 1]; its
                size sets the target sizes.
            view (Tensor, optional): The pretext model's own view (B, 3,
                fH, fW), RGB in [0, 1], f = ``upsample_factor`` (official:
                the original photo resized to 512 by the dataset). None:
                ``img`` is up-sampled (:meth:`prepare_input`).

        Returns:
            list[Tensor]: ``num_scales`` targets (B, C_l, H / 2**l, W / 2**l),
            fine -> coarse, with ``C_l = out_channels[i]``.
        """
        sizes = self.target_sizes(img.shape[-2], img.shape[-1])
        if view is None:
            view = self.prepare_input(img)
        else:
            expected = (img.shape[0], 3, self.upsample_factor * img.shape[-2],
                        self.upsample_factor * img.shape[-1])
            if tuple(view.shape) != expected:
                raise ValueError(
                    f'{type(self).__name__}: teacher view must have shape '
                    f'{expected} (upsample_factor x the image), got '
                    f'{tuple(view.shape)}')
        with torch.no_grad():
            return self.extract(view, sizes)

    # ------------------------------------------------------------------ #
    # state dict: teacher-free parent checkpoints
    # ------------------------------------------------------------------ #
    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys,
                              error_msgs) -> None:
        """Tolerate missing teacher keys when loading a parent checkpoint.

        Every teacher entry that ``state_dict`` lacks is filled with the
        current value, so the sub-modules load it as a no-op (the teacher
        keeps the weights it got from :meth:`init_weights`).
        """
        if not self.persistent:
            for key, value in self.state_dict(keep_vars=True).items():
                if prefix + key not in state_dict:
                    state_dict[prefix + key] = value.detach()
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)


def _drop_teacher_state(module: BaseTeacher, state_dict: dict, prefix: str,
                        local_metadata: dict) -> None:
    """State-dict post-hook removing a non-persistent teacher's entries.

    Only applies when the teacher is a sub-module (``prefix`` not empty):
    ``teacher.state_dict()`` itself still returns its weights.
    """
    if module.persistent or not prefix:
        return
    for key in [k for k in state_dict if k.startswith(prefix)]:
        del state_dict[key]
    metadata = getattr(state_dict, '_metadata', None)
    if metadata is not None:
        for key in [k for k in metadata if (k + '.').startswith(prefix)]:
            del metadata[key]


def resize_to(feat: Tensor, size: Tuple[int, int], mode: str) -> Tensor:
    """Resize a feature map to ``size`` with one of the tap modes.

    Args:
        feat (Tensor): (B, C, h, w).
        size (tuple[int, int]): Target (H, W).
        mode (str): ``'auto'`` (identity when equal, bilinear when
            up-sampling, area when down-sampling), ``'nearest'``,
            ``'bilinear'``, ``'area'``, or ``'none'`` (the sizes must match).

    Returns:
        Tensor: (B, C, H, W).
    """
    if tuple(feat.shape[-2:]) == tuple(size):
        return feat
    if mode == 'none':
        raise ValueError(
            f'tap resize mode "none" but the tap has size '
            f'{tuple(feat.shape[-2:])} and the target level {tuple(size)}')
    if mode == 'auto':
        mode = 'bilinear' if size[0] >= feat.shape[-2] else 'area'
    if mode == 'nearest':
        return F.interpolate(feat, size=size, mode='nearest')
    if mode == 'bilinear':
        return F.interpolate(
            feat, size=size, mode='bilinear', align_corners=False)
    if mode == 'area':
        return F.adaptive_avg_pool2d(feat, size)
    raise ValueError(f'unknown tap resize mode {mode!r}')


TAP_RESIZE_MODES = ('auto', 'nearest', 'bilinear', 'area', 'none')


def check_channels(name: str, channels: Optional[Sequence[int]],
                   expected: int) -> Optional[List[int]]:
    """Validate a user-given ``out_channels`` list."""
    if channels is None:
        return None
    channels = [int(c) for c in channels]
    if len(channels) != expected or any(c < 1 for c in channels):
        raise ValueError(
            f'{name}: out_channels must list {expected} positive widths '
            f'(one per tap, fine -> coarse), got {channels}')
    return channels
