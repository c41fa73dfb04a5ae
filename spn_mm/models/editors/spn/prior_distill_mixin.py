"""Teacher + prior distillation plumbing shared by SPN and mixed models."""
from typing import List, Optional

import torch
from torch import Tensor

from spn_mm.registry import MODELS


class PriorDistillMixin:
    """Teacher + prior distillation loss for any mmagic inpaintor.

    Adds SPN's frozen teacher (``self.teacher``) and
    ``PriorDistillationLoss`` (``self.loss_prior``) to a host inpaintor whose
    generator returns the learner's distillation-head outputs (e.g.
    :class:`PriorGuidedEncDec` with ``return_aux=True``). The prior loss can
    be switched off with :meth:`set_prior_loss_enabled` (by
    :class:`~spn_mm.engine.hooks.PriorLossScheduleHook`).
    on by :class:`~spn_mm.engine.hooks.PriorLossScheduleHook`.
    """

    def _init_prior_distill(self, teacher: Optional[dict],
                            loss_prior: Optional[dict]) -> None:
        """Build the teacher and the loss; check the head widths.

        Call after the host's ``__init__`` (needs ``self.generator``).

        Args:
            teacher (dict, optional): Teacher config.
            loss_prior (dict, optional): ``PriorDistillationLoss`` config.
        """
        name = type(self).__name__
        if (teacher is None) != (loss_prior is None):
            raise ValueError(f'{name}: set both `teacher` and `loss_prior` '
                             '(or neither)')
        self.teacher = MODELS.build(teacher) if teacher is not None else None
        self.loss_prior = (
            MODELS.build(loss_prior) if loss_prior is not None else None)
        if self.teacher is None:
            return
        heads = getattr(self.generator, 'head_channels', None)
        if heads is None:  # SPNGenerator: the learner holds the heads
            heads = getattr(
                getattr(self.generator, 'prior_learner', None),
                'head_channels', None)
        if heads is None:
            raise ValueError(
                f'{name}: model.encdec must expose the prior learner\'s '
                '`head_channels` (use PriorGuidedEncDec) to be distilled')
        taps = list(self.teacher.out_channels)
        if list(heads) != taps:
            raise ValueError(
                f'{name}: model.encdec.prior_learner.head_channels '
                f'{list(heads)} must equal the teacher tap channels {taps} '
                '(fine -> coarse, one per distilled scale)')

    def set_prior_loss_enabled(self, enabled: bool) -> None:
        """Switch the prior distillation loss on or off (called by
        :class:`~spn_mm.engine.hooks.PriorLossScheduleHook` before every
        training iteration; on by default)."""
        self._prior_loss_enabled = bool(enabled)

    def prior_loss_active(self) -> bool:
        """Whether the prior distillation loss is used this iteration."""
        if self.loss_prior is None:
            return False
        return getattr(self, '_prior_loss_enabled', True)

    def prior_targets(self,
                      gt: Tensor,
                      view: Optional[Tensor] = None) -> Optional[List[Tensor]]:
        """Teacher targets from the un-masked image, or None when inactive.

        Args:
            gt (Tensor): (B, 3, H, W) ground truth in [-1, 1].
            view (Tensor, optional): (B, 3, fH, fW) the teacher's own view
                of the photo, RGB in [0, 1] (official: the original photo
                resized to 512 by the dataset, ``SPNTeacherView``). None:
                the teacher up-samples ``gt``.

        Returns:
            list[Tensor] | None: Targets fine -> coarse (no grad).
        """
        if not self.prior_loss_active():
            return None
        with torch.no_grad():
            return [t.detach() for t in self.teacher(gt, view=view)]

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


