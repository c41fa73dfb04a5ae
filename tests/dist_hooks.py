"""Test-only hooks for the training tests (never used by real configs).

Imported through a config's ``custom_imports`` (``tests`` must be importable:
PYTHONPATH=<repo>/tests).
"""
import json
import os.path as osp
import time

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner.checkpoint import get_state_dict

from spn_mm.registry import HOOKS


def _unwrap(model):
    return model.module if is_model_wrapper(model) else model


def _weights(model) -> dict:
    """State dict with every wrapper (DDP children too) removed."""
    return {
        k: v.detach().cpu().clone()
        for k, v in get_state_dict(model).items()
    }


@HOOKS.register_module()
class DumpRankWeightsHook(Hook):
    """Per rank: initial and final weights (``rank<N>_init.pth``,
    ``rank<N>.pth``), the teacher's gradients/optimizer membership, the
    sample indices and the loss terms of every iteration
    (``rank<N>_facts.json``)."""

    priority = 'LOWEST'

    def before_train(self, runner) -> None:
        self.samples, self.terms = [], []
        torch.save(_weights(_unwrap(runner.model)),
                   osp.join(runner.work_dir, f'rank{get_rank()}_init.pth'))

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self.samples.append(
            [int(ds.sample_idx) for ds in data_batch['data_samples']])

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self.terms.append(sorted(outputs or {}))

    def after_train(self, runner) -> None:
        model = _unwrap(runner.model)
        rank = get_rank()
        torch.save(_weights(model), osp.join(runner.work_dir,
                                             f'rank{rank}.pth'))
        teacher = getattr(model, 'teacher', None)
        t_params = list(teacher.parameters()) if teacher is not None else []
        optimised = {
            id(p)
            for wrapper in runner.optim_wrapper.values()
            for group in wrapper.optimizer.param_groups
            for p in group['params']
        }
        facts = dict(
            samples=self.samples,
            terms=self.terms,
            teacher_params=len(t_params),
            teacher_grads=sum(p.grad is not None for p in t_params),
            teacher_requires_grad=sum(p.requires_grad for p in t_params),
            teacher_in_optimizer=sum(id(p) in optimised for p in t_params))
        with open(osp.join(runner.work_dir, f'rank{rank}_facts.json'),
                  'w') as f:
            json.dump(facts, f)


@HOOKS.register_module()
class InjectNaNHook(Hook):
    """Fill the generator's first parameter with NaN before iteration
    ``at_iter`` (0-based), so that iteration's losses are NaN."""

    def __init__(self, at_iter: int) -> None:
        self.at_iter = at_iter

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter == self.at_iter:
            param = next(_unwrap(runner.model).generator.parameters())
            with torch.no_grad():
                param.fill_(float('nan'))


@HOOKS.register_module()
class SleepAfterIterHook(Hook):
    """Sleep after iteration ``at_iter`` (1-based, after its checkpoint),
    giving a test time to kill the process there."""

    priority = 'LOWEST'

    def __init__(self, at_iter: int, seconds: float = 60.) -> None:
        self.at_iter = at_iter
        self.seconds = seconds

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if runner.iter + 1 == self.at_iter:
            time.sleep(self.seconds)
