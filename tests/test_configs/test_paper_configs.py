# Copyright (c) OpenMMLab. All rights reserved.
"""Paper configs: full-width builds, tiny train/test steps, the recipe."""
import os.path as osp

import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS
from spn_config_helpers import torch_single_thread  # noqa: F401
from spn_config_helpers import (CONFIG_DIR, PAPER_CONFIGS, build_model,
                                check_tiny_train_and_test_step, config_names,
                                generator_params, load, tiny_cfg)
from utils import REPO_ROOT

# generator = learner (incl. distillation heads) + image generator
PAPER_GENERATOR_PARAMS = {
    'spn_places2.py': 50_702_643,
    'spn_celeba.py': 50_702_643,
    'spn_paris.py': 50_702_643,
    'spn_celebahq_prob.py': 68_512_883,
    'spn_paris_prob.py': 68_512_883,
}

# max_iters, LR milestone (x0.1), prior_loss_until_iter (configs/README.md,
# "Training schedules"; global batch 8 = 4 per GPU x 2 GPUs)
SCHEDULES = {
    'spn_places2.py': (1_000_000, 750_000, None),
    'spn_celeba.py': (800_000, 600_000, None),
    'spn_paris.py': (140_000, 105_000, 112_000),
    'spn_celebahq_prob.py': (236_000, 177_000, 202_000),
    'spn_paris_prob.py': (130_000, 97_500, 112_000),
    'mixing/aot-gan_spn-prior_places2.py': (1_000_000, 750_000, None),
    'mixing/spn_places2_smpatch-disc_lsgan.py': (1_000_000, 750_000, None),
}
for _name in config_names('ablations'):
    SCHEDULES[_name] = SCHEDULES['spn_paris.py']
# no teacher, no prior loss to cut
SCHEDULES['ablations/spn_paris_wo-teacher.py'] = (140_000, 105_000, None)

# every config that follows the paper's optimisation recipe (not the demo)
RECIPE_CONFIGS = sorted(SCHEDULES)


def teacher_checkpoint(cfg):
    teacher = cfg.model.get('teacher')
    return None if teacher is None else teacher.get('checkpoint')


@pytest.mark.parametrize('name', PAPER_CONFIGS)
def test_paper_config_builds_full_width_without_weight_files(name):
    cfg = load(name)
    ckpt = teacher_checkpoint(cfg)
    assert ckpt is not None, 'paper configs name the ASL weight file'
    assert not osp.exists(osp.join(REPO_ROOT, ckpt))  # no weights here
    model = build_model(cfg.model, init=False)
    assert generator_params(model) == PAPER_GENERATOR_PARAMS[name]
    assert list(model.teacher.out_channels) == [76, 76, 152]
    assert not any(k.startswith('teacher.') for k in model.state_dict())


def test_demo_config_builds():
    model = build_model(load('spn_demo.py').model, init=False)
    assert type(model.teacher).__name__ == 'EdgeTeacher'


@pytest.mark.parametrize('name', PAPER_CONFIGS + ['spn_demo.py'])
def test_tiny_copy_train_step_and_test_step(name):
    check_tiny_train_and_test_step(name)


@pytest.mark.parametrize('name', RECIPE_CONFIGS)
def test_schedule_values(name):
    cfg = load(name)
    max_iters, milestone, prior_until = SCHEDULES[name]
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    assert cfg.train_cfg.max_iters == max_iters
    assert milestone == 0.75 * max_iters  # decay for the last quarter
    (sched, ) = cfg.param_scheduler
    assert sched.milestones == [milestone]
    assert cfg.model.train_cfg.get('prior_loss_until_iter') == prior_until
    # 4 per GPU x 2 GPUs
    assert cfg.train_dataloader.batch_size == 4
    assert cfg.auto_scale_lr.base_batch_size == 8
    assert cfg.auto_scale_lr.enable is False


@pytest.mark.parametrize('name', RECIPE_CONFIGS)
def test_built_optimizers_and_schedulers_match_recipe(name):
    """Adam(0, 0.9), lr 1e-4 for G and D, x0.1 at 3/4 of max_iters."""
    cfg = tiny_cfg(name)  # same optimiser structure, cheap to build
    model = build_model(cfg.model, init=False)
    wrappers = build_optim_wrapper(model, cfg.optim_wrapper)
    assert set(wrappers.keys()) == {'generator', 'disc'}
    optimised = set()
    for key, module in (('generator', model.generator), ('disc', model.disc)):
        opt = wrappers[key].optimizer
        assert isinstance(opt, torch.optim.Adam)
        (group, ) = opt.param_groups
        assert group['lr'] == 1e-4
        assert tuple(group['betas']) == (0.0, 0.9)
        assert group['weight_decay'] == 0
        ids = {id(p) for p in group['params']}
        assert ids == {id(p) for p in module.parameters()}
        optimised |= ids
    teacher = getattr(model, 'teacher', None)
    if teacher is not None:
        assert not optimised & {id(p) for p in teacher.parameters()}

    max_iters, milestone, _ = SCHEDULES[name]
    (sched_cfg, ) = cfg.param_scheduler
    for key in ('generator', 'disc'):
        sched = PARAM_SCHEDULERS.build(
            dict(sched_cfg, optimizer=wrappers[key]))
        assert type(sched).__name__ == 'MultiStepLR'
        assert sched.by_epoch is False
        assert dict(sched.milestones) == {milestone: 1}
        assert sched.gamma == pytest.approx(0.1)
        group = wrappers[key].optimizer.param_groups[0]
        sched.last_step = milestone - 2
        sched.step()  # iteration milestone - 1
        assert group['lr'] == pytest.approx(1e-4)
        sched.step()  # iteration milestone
        assert group['lr'] == pytest.approx(1e-5)


def test_readme_lists_every_config():
    with open(osp.join(CONFIG_DIR, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    names = (
        PAPER_CONFIGS + config_names('ablations') + config_names('mixing'))
    missing = [n for n in names if n not in readme]
    assert not missing, missing
