# Copyright (c) OpenMMLab. All rights reserved.
"""A test-only hook: every rank saves its model weights after training.

Used by the distributed tests to check that the ranks' parameters are equal
(i.e. gradients really were all-reduced). Imported through a config's
``custom_imports`` (``tests`` must be importable: PYTHONPATH=<repo>/tests).
"""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from spn_mm.registry import HOOKS


@HOOKS.register_module()
class DumpRankWeightsHook(Hook):
    """Save ``{name: tensor}`` of the (unwrapped) model as rank<N>.pth."""

    priority = 'LOWEST'

    def after_train(self, runner) -> None:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        state = {k: v.detach().cpu().clone()
                 for k, v in model.state_dict().items()}
        torch.save(state, osp.join(runner.work_dir, f'rank{get_rank()}.pth'))
