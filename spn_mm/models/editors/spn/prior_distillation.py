"""Prior distillation: SPN's frozen teacher and its loss as one module."""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from spn_mm.registry import MODELS


@MODELS.register_module()
class PriorDistillation(BaseModule):
    """The frozen teacher and ``PriorDistillationLoss`` of SPN (Sec. 3.2).

    Any inpaintor whose generator returns the prior learner's
    distillation-head outputs (``distill``) and exposes their widths as
    ``distill_channels`` (:class:`SPNGenerator`, :class:`PriorGuidedEncDec`)
    holds one of these as ``prior_distill``. Per training iteration:
    :meth:`targets` (no grad; None while :attr:`enabled` is False), then
    ``forward(distill, targets, mask)`` for ``loss_prior``.
    :class:`~spn_mm.engine.hooks.PriorLossScheduleHook` sets
    :attr:`enabled` from the runner position. The teacher's weights never
    enter ``state_dict`` (``BaseTeacher``'s post hook) and the loss has no
    state, so this module adds no checkpoint keys. It is an mmengine
    ``BaseModule``: the runner's ``init_weights`` reaches the teacher, which
    loads its local checkpoint there.

    Args:
        teacher (dict): Frozen teacher config (``model.teacher``).
        loss (dict): ``PriorDistillationLoss`` config (``model.loss_prior``).
    """

    def __init__(self, teacher: dict, loss: dict) -> None:
        super().__init__()
        self.teacher = MODELS.build(teacher)
        self.loss = MODELS.build(loss)
        #: Whether the prior loss is used this iteration (set by
        #: ``PriorLossScheduleHook`` before every training iteration).
        self.enabled = True

    def check_heads(self,
                    distill_channels: Sequence[int],
                    owner: str = 'model.encdec') -> None:
        """Raise unless the heads' widths equal the teacher taps' channels.

        Args:
            distill_channels (Sequence[int]): The generator's
                ``distill_channels`` (fine -> coarse).
            owner (str): Config path named in the error.
        """
        heads, taps = list(distill_channels), list(self.teacher.out_channels)
        if heads != taps:
            raise ValueError(
                f'{owner}.prior_learner.head_channels {heads} must equal the '
                f'teacher tap channels {taps} (fine -> coarse, one per '
                'distilled scale)')

    def targets(self, gt: Tensor, data_samples=None) -> Optional[List[Tensor]]:
        """Teacher targets from the un-masked image, or None when inactive.

        Args:
            gt (Tensor): (B, 3, H, W) ground truth in [-1, 1].
            data_samples (DataSample, optional): The batch; its packed
                ``teacher_img`` (:meth:`teacher_view`, official: the
                original photo resized to 512 by ``SPNTeacherView``) is the
                teacher's input when present, else the teacher up-samples
                ``gt``.

        Returns:
            list[Tensor] | None: Targets fine -> coarse (no grad).
        """
        if not self.enabled:
            return None
        view = None
        if data_samples is not None:
            view = self.teacher_view(data_samples, gt)
        with torch.no_grad():
            return [t.detach() for t in self.teacher(gt, view=view)]

    def forward(self, distill: List[Tensor], targets: List[Tensor],
                mask: Tensor) -> Tensor:
        """``loss_prior``: the configured loss on heads vs targets."""
        return self.loss(distill, targets, mask)

    @staticmethod
    def teacher_view(data_samples, like: Tensor) -> Optional[Tensor]:
        """The packed ``teacher_img`` of a batch as RGB in [0, 1], or None.

        Args:
            data_samples (DataSample): Stacked batch samples; the field is
                (B, 3, fH, fW) in 0-255 when the pipeline has
                ``SPNTeacherView`` and ``PackInputs(data_keys=['teacher_img'])``.
            like (Tensor): Gives the dtype and device of the result.
        """
        view = data_samples.get('teacher_img', None)
        if view is None:
            return None
        return view.to(device=like.device, dtype=like.dtype) / 255.

    @staticmethod
    def keep_heads_in_graph(loss: Tensor, distill: Optional[List[Tensor]],
                            targets: Optional[List[Tensor]]) -> Tensor:
        """Add ``0 * sum(distill)`` when the prior loss was not computed.

        Without a teacher, or after the prior-loss cut, the distillation
        heads get no gradient; DDP's reducer then fails in the next
        iteration ("Expected to have finished reduction ..."). A zero term
        keeps them in the graph and changes nothing else.
        """
        if targets is None and distill:
            loss = loss + 0. * sum(d.sum() for d in distill)
        return loss


def build_prior_distillation(teacher: Optional[dict],
                             loss_prior: Optional[dict], generator: nn.Module,
                             owner: str) -> Optional[PriorDistillation]:
    """Build :class:`PriorDistillation` from an inpaintor's config keys.

    Args:
        teacher (dict, optional): ``model.teacher``.
        loss_prior (dict, optional): ``model.loss_prior``.
        generator (nn.Module): The built generator; its public
            ``distill_channels`` are checked against the teacher taps.
        owner (str): The inpaintor's name, for errors.

    Returns:
        PriorDistillation | None: None when neither key is set.
    """
    if (teacher is None) != (loss_prior is None):
        raise ValueError(f'{owner}: set both `teacher` and `loss_prior` '
                         '(or neither)')
    if teacher is None:
        return None
    if not hasattr(generator, 'distill_channels'):
        raise ValueError(
            f'{owner}: model.encdec ({type(generator).__name__}) has no '
            '`distill_channels` (use SPNGenerator or PriorGuidedEncDec) and '
            'cannot be distilled')
    distillation = PriorDistillation(teacher=teacher, loss=loss_prior)
    distillation.check_heads(generator.distill_channels)
    return distillation
