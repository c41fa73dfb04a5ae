"""Wrap any mmagic inpainting generator with SPN's semantic prior learner."""
import copy
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from spn_mm.registry import MODELS
from ..spn.input_convention import learner_view, to_official

_FUSE_MODES = ('add', 'concat')


@MODELS.register_module()
class PriorGuidedEncDec(BaseModule):
    """A host inpainting generator conditioned on SPN's learned prior.

    Mixing example (``configs/mixing/``): SPN's
    :class:`SemanticPriorLearner` runs on the masked input, and one level of
    its prior pyramid conditions a generator of another mmagic model (the
    *host*, e.g. AOT-GAN's ``AOTEncoderDecoder``). The learner's
    distillation-head outputs are returned for a prior distillation loss
    (see :class:`PriorGuidedAOTInpaintor`).

    Learner input (SPN's convention, independent of the host's hole value):
    ``x01 = (masked_img + 1) / 2`` with holes set to 1.0, nearest-up-sampled
    2x and concatenated with the 2x mask, i.e. (B, 4, 2H, 2W). The pyramid is
    ordered fine -> coarse with sizes (H, H/2, H/4)[-num_scales:].

    Fusion of the selected prior ``S`` (``fuse_level``, default the
    coarsest, S^L at H/4): a 1x1 conv ``proj`` maps it to ``fuse_channels``,
    then

    * ``fuse_mode='add'`` (default): ``proj(S)`` is **added to the output of
      the host sub-module** ``fuse_module`` (a forward hook; e.g.
      ``'encoder'`` of AOT-GAN, whose output is (B, 256, H/4, W/4), the
      input of its AOT-block bottleneck). The projection is bilinearly
      resized when the sizes differ. ``fuse_channels`` must equal that
      module's output channels.
    * ``fuse_mode='concat'``: ``proj(S)`` is bilinearly resized to (H, W) and
      **concatenated to the host's input** ``x``; the host's first layer must
      then take ``x.shape[1] + fuse_channels`` channels.

    Either way the host's output depends on the prior (so changing the
    learner changes the output) and gradients of the host's losses reach the
    learner. With ``zero_init_proj=True`` the projection starts at zero, so a
    pre-trained host initially computes exactly its own function.

    Args:
        host (dict): Config of the host generator; it is called as
            ``host(x)`` with ``x = cat([masked_img, mask])`` (B, 4, H, W) (or
            with the prior channels appended, ``fuse_mode='concat'``) and must
            return the image (B, 3, H, W).
        prior_learner (dict): ``SemanticPriorLearner`` config.
        fuse_channels (int): Output channels of the projection: the hooked
            module's output channels (``'add'``) or the number of extra input
            channels (``'concat'``).
        fuse_mode (str): ``'add'`` or ``'concat'``. Default: ``'add'``.
        fuse_module (str): Dotted path of the host sub-module whose output
            receives the prior (``'add'`` only). Default: ``'encoder'``.
        fuse_level (int): Index into the produced prior pyramid (fine ->
            coarse). Default: -1 (the coarsest, S^L).
        zero_init_proj (bool): Initialise the projection to zero.
            Default: False.
        init_cfg (dict, optional): Initialisation config. Default: None.
    """

    def __init__(self,
                 host: dict,
                 prior_learner: dict,
                 fuse_channels: int,
                 fuse_mode: str = 'add',
                 fuse_module: str = 'encoder',
                 fuse_level: int = -1,
                 zero_init_proj: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        for name, cfg in (('host', host), ('prior_learner', prior_learner)):
            if not isinstance(cfg, dict) or 'type' not in cfg:
                raise TypeError(f'PriorGuidedEncDec: `{name}` must be a '
                                f'registry config dict, got {cfg!r}')
        if fuse_mode not in _FUSE_MODES:
            raise ValueError(f'PriorGuidedEncDec: fuse_mode must be one of '
                             f'{_FUSE_MODES}, got {fuse_mode!r}')
        if not isinstance(fuse_channels, int) or fuse_channels < 1:
            raise ValueError('PriorGuidedEncDec: fuse_channels must be a '
                             f'positive int, got {fuse_channels!r}')
        self.host = MODELS.build(copy.deepcopy(dict(host)))
        self.prior_learner = MODELS.build(copy.deepcopy(dict(prior_learner)))
        if getattr(self.prior_learner, 'variational_channels', 0):
            raise ValueError('PriorGuidedEncDec: only a deterministic prior '
                             'learner (variational_channels=0) is supported')
        prior_channels = list(self.prior_learner.prior_channels)
        if not -len(prior_channels) <= fuse_level < len(prior_channels):
            raise ValueError(
                f'PriorGuidedEncDec: fuse_level {fuse_level} is out of range '
                f'for a learner with {len(prior_channels)} produced levels')
        self.fuse_mode = fuse_mode
        self.fuse_module = fuse_module
        self.fuse_level = fuse_level
        self.fuse_channels = fuse_channels
        self.zero_init_proj = zero_init_proj
        self.proj = nn.Conv2d(prior_channels[fuse_level], fuse_channels, 1)
        if zero_init_proj:
            nn.init.zeros_(self.proj.weight)
            nn.init.zeros_(self.proj.bias)

        self._pending: Optional[Tensor] = None
        self._hook_fired = False
        if fuse_mode == 'add':
            try:
                target = self.host.get_submodule(fuse_module)
            except AttributeError:
                raise ValueError(
                    f'PriorGuidedEncDec: fuse_module {fuse_module!r} is not '
                    f'a sub-module of the host {type(self.host).__name__}'
                ) from None
            target.register_forward_hook(self._add_prior)

    @property
    def distill_channels(self) -> List[int]:
        """The learner's distillation-head widths (teacher tap channels,
        fine -> coarse; checked by :class:`PriorDistillation`)."""
        return list(self.prior_learner.head_channels)

    def init_weights(self) -> None:
        """Initialise host and learner; keep a zero projection zero."""
        super().init_weights()
        if self.zero_init_proj:
            nn.init.zeros_(self.proj.weight)
            nn.init.zeros_(self.proj.bias)

    # ------------------------------------------------------------------ #
    # fusion
    # ------------------------------------------------------------------ #
    def _add_prior(self, module: nn.Module, inputs: tuple,
                   output: Union[Tensor, Dict]) -> Union[Tensor, Dict]:
        """Forward hook on ``fuse_module``: add the projected prior."""
        cond = self._pending
        if cond is None:  # host run on its own (no prior pending)
            return output
        feat = output['out'] if isinstance(output, dict) else output
        if not isinstance(feat, Tensor) or feat.dim() != 4:
            raise TypeError(
                f'PriorGuidedEncDec: host module {self.fuse_module!r} must '
                'return a (B, C, h, w) tensor (or a dict with "out"), got '
                f'{type(feat).__name__}')
        if feat.shape[1] != cond.shape[1] or feat.shape[0] != cond.shape[0]:
            raise ValueError(
                f'PriorGuidedEncDec: host module {self.fuse_module!r} outputs '
                f'{tuple(feat.shape)}; fuse_channels ({self.fuse_channels}) '
                'must equal its channels (and the batch must match)')
        if cond.shape[-2:] != feat.shape[-2:]:
            cond = F.interpolate(
                cond,
                size=feat.shape[-2:],
                mode='bilinear',
                align_corners=False)
        self._hook_fired = True
        fused = feat + cond
        if isinstance(output, dict):
            output = dict(output)
            output['out'] = fused
            return output
        return fused

    @staticmethod
    def learner_input(masked_img: Tensor, mask: Tensor) -> Tensor:
        """SPN's 2x learner view of a masked image.

        Args:
            masked_img (Tensor): (B, 3, H, W) in [-1, 1]; hole values are
                ignored.
            mask (Tensor): (B, 1, H, W), 1 = hole.

        Returns:
            Tensor: (B, 4, 2H, 2W), ``cat([x01_2x, mask_2x])`` with holes 1.0.
        """
        return learner_view(*to_official(masked_img, mask))

    # ------------------------------------------------------------------ #
    # forward
    # ------------------------------------------------------------------ #
    def forward(self,
                x: Tensor,
                return_aux: bool = False) -> Union[Tensor, Dict]:
        """Run the learner, then the prior-conditioned host.

        Args:
            x (Tensor): ``cat([masked_img, mask], 1)`` (B, 4, H, W): the
                masked image in [-1, 1] (any hole filling) and the mask
                (1 = hole); H and W multiples of 4.
            return_aux (bool): Also return the prior pyramid and the
                distillation-head outputs. Default: False.

        Returns:
            Tensor | dict: The host output (B, 3, H, W); with ``return_aux``
            a dict with ``out``, ``priors`` and ``distill`` (lists fine ->
            coarse).
        """
        if x.dim() != 4 or x.shape[1] != 4:
            raise ValueError('PriorGuidedEncDec: expected x = cat([masked_img,'
                             ' mask]) of shape (B, 4, H, W), got '
                             f'{tuple(x.shape)}')
        if x.shape[-2] % 4 or x.shape[-1] % 4:
            raise ValueError('PriorGuidedEncDec: H and W must be multiples of '
                             f'4, got {tuple(x.shape[-2:])}')
        priors, distill = self.prior_learner(
            self.learner_input(x[:, :3], x[:, 3:4]))
        cond = self.proj(priors[self.fuse_level])
        if self.fuse_mode == 'concat':
            cond = F.interpolate(
                cond, size=x.shape[-2:], mode='bilinear', align_corners=False)
            out = self.host(torch.cat([x, cond], dim=1))
        else:
            self._pending, self._hook_fired = cond, False
            try:
                out = self.host(x)
            finally:
                self._pending = None
            if not self._hook_fired:
                raise RuntimeError(
                    f'PriorGuidedEncDec: host module {self.fuse_module!r} was '
                    'not called by the host forward; choose another '
                    'fuse_module')
        if return_aux:
            return dict(out=out, priors=priors, distill=distill)
        return out
