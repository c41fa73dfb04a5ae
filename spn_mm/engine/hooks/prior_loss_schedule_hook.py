"""When SPN's prior distillation loss is used: a hook, resume-proof."""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop

from spn_mm.models.editors.spn import PriorDistillation
from spn_mm.registry import HOOKS


@HOOKS.register_module()
class PriorLossScheduleHook(Hook):
    """Switch the prior distillation loss off after a number of epochs/iters.

    Official SPN drops the prior loss for the last epochs: det Paris uses it
    for epochs 1-70 (of 75), every probabilistic config for epochs 1-60 (of
    70) (``epoch > 69`` / ``epoch > 59`` in the authors' loops). Before every
    training iteration the hook sets ``enabled`` of every
    :class:`~spn_mm.models.editors.spn.PriorDistillation` in the model
    (``model.prior_distill``) to a flag computed from the runner's position
    only, so a resumed run gets the same answer as an uninterrupted one.
    Models without one (no teacher) are left alone.

    Args:
        until_epoch (int, optional): The loss is used while fewer than this
            many epochs are complete (``runner.epoch < until_epoch``), i.e.
            in 1-based epochs ``1..until_epoch``. Epoch-based loops only.
        until_iter (int, optional): The loss is used while
            ``runner.iter < until_iter`` (iterations 1..until_iter).
        None for both: always used.
    """

    priority = 'NORMAL'

    def __init__(self,
                 until_epoch: Optional[int] = None,
                 until_iter: Optional[int] = None) -> None:
        if until_epoch is not None and until_iter is not None:
            raise ValueError('PriorLossScheduleHook: set until_epoch or '
                             'until_iter, not both')
        for name, value in (('until_epoch', until_epoch), ('until_iter',
                                                           until_iter)):
            if value is not None and (not isinstance(value, int)
                                      or value < 0):
                raise ValueError(f'PriorLossScheduleHook.{name}: expected '
                                 f'an int >= 0 or None, got {value!r}')
        self.until_epoch = until_epoch
        self.until_iter = until_iter

    def active(self, epoch: int, iteration: int) -> bool:
        """Whether the prior loss is used at this 0-based position."""
        if self.until_epoch is not None:
            return epoch < self.until_epoch
        if self.until_iter is not None:
            return iteration < self.until_iter
        return True

    def before_train(self, runner) -> None:
        if self.until_epoch is not None and not isinstance(
                runner.train_loop, EpochBasedTrainLoop):
            raise ValueError(
                'PriorLossScheduleHook.until_epoch needs an epoch-based '
                'train loop (train_cfg.type=EpochBasedTrainLoop); use '
                'until_iter with IterBasedTrainLoop')

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        enabled = self.active(runner.epoch, runner.iter)
        for module in model.modules():
            if isinstance(module, PriorDistillation):
                module.enabled = enabled
