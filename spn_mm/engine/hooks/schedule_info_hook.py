"""Log the training schedule in epochs and iterations, and the loss terms."""
import logging
from typing import List

from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop

from spn_mm.registry import HOOKS
from .prior_loss_schedule_hook import PriorLossScheduleHook

#: Global batch of the authors' runs (4 per GPU x 2 GPUs).
OFFICIAL_GLOBAL_BATCH = 8


def _schedulers(runner) -> list:
    scheds = runner.param_schedulers or []
    if isinstance(scheds, dict):
        return [(name, s) for name, group in scheds.items() for s in group]
    return [('', s) for s in scheds]


@HOOKS.register_module()
class SPNScheduleInfoHook(Hook):
    """Print the schedule with epochs converted to iterations at start-up.

    One epoch is one pass over the full training list: ``len(dataset) //
    (world_size x batch_size)`` iterations. The hook logs the global batch,
    iterations per epoch, the end of training, every LR milestone, the
    prior-loss cut and each loss term of the model with its weight, and
    warns when the global batch differs from the authors' 8 (epoch-defined
    schedules then take a different number of optimiser steps).
    """

    priority = 'VERY_LOW'

    def before_train(self, runner) -> None:
        loader = runner.train_dataloader
        world = get_world_size()
        batch = int(loader.batch_size)
        global_batch = world * batch
        n_data = len(loader.dataset)
        ipe = max(n_data // global_batch, 1)
        loop = runner.train_loop
        by_epoch = isinstance(loop, EpochBasedTrainLoop)

        def both(value: float, in_epochs: bool) -> str:
            if in_epochs:
                return f'epoch {value:g} = iteration {int(value * ipe)}'
            return f'iteration {int(value)} = epoch {value / ipe:.2f}'

        lines: List[str] = [
            f'SPN schedule: {n_data} training images, global batch '
            f'{global_batch} ({world} process(es) x {batch}), '
            f'{ipe} iterations per epoch',
            '  end of training: ' +
            (both(loop.max_epochs, True) if by_epoch else both(
                loop.max_iters, False))
        ]
        for name, sched in _schedulers(runner):
            milestones = getattr(sched, 'milestones', None)
            if not milestones:
                continue
            gamma = getattr(sched, 'gamma', None)
            sched_by_epoch = getattr(sched, 'by_epoch', False)
            for m in sorted(milestones):
                lines.append(f'  LR x{gamma} ({name or "all"}) after ' +
                             both(m, sched_by_epoch))
        for hook in runner.hooks:
            if isinstance(hook, PriorLossScheduleHook):
                if hook.until_epoch is not None:
                    lines.append('  prior loss used up to ' +
                                 both(hook.until_epoch, True))
                elif hook.until_iter is not None:
                    lines.append('  prior loss used up to ' +
                                 both(hook.until_iter, False))
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        terms = [(name, type(mod).__name__, getattr(mod, 'loss_weight', ''))
                 for name, mod in model.named_children()
                 if name.startswith('loss') and mod is not None]
        if terms:
            lines.append('  loss terms: ' + ', '.join(
                f'{name} ({kind}, weight {weight})'
                for name, kind, weight in terms))
        print_log('\n'.join(lines), 'current', logging.INFO)
        if global_batch != OFFICIAL_GLOBAL_BATCH:
            print_log(
                f'SPN schedule: global batch {global_batch} differs from the '
                f'official {OFFICIAL_GLOBAL_BATCH} (4 per GPU x 2 GPUs); '
                'epoch-defined schedules keep their epochs, so the number of '
                'optimiser steps and the results differ from the paper',
                'current', logging.WARNING)
