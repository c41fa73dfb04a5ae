"""Stop training on the first NaN/inf loss term, before anything is saved."""
import math
from numbers import Number
from typing import Dict, List, Optional

import torch
from mmengine.dist import (all_gather_object, all_reduce, get_rank,
                           get_world_size)
from mmengine.hooks import Hook

from spn_mm.registry import HOOKS


class NonFiniteLossError(FloatingPointError):
    """A loss term was NaN or infinite (raised by :class:`NonFiniteLossHook`).
    """


def non_finite_terms(outputs: Optional[Dict]) -> List[str]:
    """Names of the ``loss*`` entries of ``outputs`` that are not finite.

    Args:
        outputs (dict, optional): ``train_step`` outputs (log variables).

    Returns:
        list[str]: ``'name=value'`` items, in ``outputs`` order.
    """
    bad = []
    for name, value in (outputs or {}).items():
        if not name.startswith('loss'):
            continue
        if isinstance(value, torch.Tensor):
            finite = bool(torch.isfinite(value.detach()).all())
            shown = value.detach().float().mean().item()
        elif isinstance(value, Number):
            finite = math.isfinite(value)
            shown = value
        else:
            continue
        if not finite:
            bad.append(f'{name}={shown}')
    return bad


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Raise :class:`NonFiniteLossError` when a loss term is NaN/inf.

    Runs after every training iteration with a priority above the
    ``CheckpointHook``'s, so the iteration that produced the non-finite value
    saves no checkpoint: the last checkpoint on disk is the last good one.
    Under DDP every rank learns of a bad term on any rank (a one-element
    all-reduce per iteration; the names are gathered only then), so all
    ranks stop together. The message names
    the terms, the rank and the 1-based iteration (as in the log).
    """

    priority = 'ABOVE_NORMAL'

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[Dict] = None) -> None:
        bad = non_finite_terms(outputs)
        if get_world_size() > 1:
            # one tiny all-reduce per iteration; names only when needed
            flag = torch.tensor([float(bool(bad))])
            all_reduce(flag)
            if float(flag) == 0:
                return
            gathered = all_gather_object((get_rank(), bad))
        else:
            gathered = [(get_rank(), bad)]
        found = [(rank, terms) for rank, terms in gathered if terms]
        if not found:
            return
        where = '; '.join(f'rank {rank}: {", ".join(terms)}'
                          for rank, terms in found)
        raise NonFiniteLossError(
            f'non-finite loss at iteration {runner.iter + 1} ({where}); '
            'training stopped, no checkpoint was written for this iteration '
            f'(the last checkpoint in {runner.work_dir} is the last good '
            'one; resume from it with a lower learning rate or fix the '
            'input)')
