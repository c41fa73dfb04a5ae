"""Ablation configs (paper Tables 3-5, Figs. 7-9): builds and tiny steps."""
import os.path as osp
import sys

import pytest
from spn_config_helpers import torch_single_thread  # noqa: F401
from spn_config_helpers import (CONFIG_DIR, TINY_IMAGE_GENERATOR, TINY_LEARNER,
                                build_model, check_tiny_train_and_test_step,
                                config_names, flatten, generator_params,
                                load)
from utils import REPO_ROOT, TOOLS, free_port, run_cmd

PARIS = 'spn_paris.py'

# name -> (learner num_scales, head channels, middle blocks, fusion,
#          teacher type or None, generator parameters at full width)
ABLATIONS = {
    f'ablations/spn_paris_{name}.py': values
    for name, *values in [
        ('prior-scales-1', 1, [152], 8, 'spade', 'PretextTeacher', 49_027_675),
        ('prior-scales-2', 2, [76, 152], 8, 'spade', 'PretextTeacher',
         50_365_479),
        ('prior-scales-3', 3, [76, 76, 152], 8, 'spade', 'PretextTeacher',
         50_702_643),
        ('spade-blocks-4', 3, [76, 76, 152], 4, 'spade', 'PretextTeacher',
         38_898_995),
        ('spade-blocks-8', 3, [76, 76, 152], 8, 'spade', 'PretextTeacher',
         50_702_643),
        ('spade-blocks-12', 3, [76, 76, 152], 12, 'spade', 'PretextTeacher',
         62_506_291),
        ('wo-teacher', 3, [76, 76, 152], 8, 'spade', None, 50_702_643),
        ('wo-spade', 3, [76, 76, 152], 8, 'concat', 'PretextTeacher',
         48_185_011),
        ('teacher-resnet50', 3, [64, 256, 512], 8, 'spade', 'PretextTeacher',
         50_817_603),
        ('teacher-hrnet-w18', 3, [256, 18, 270], 8, 'spade', 'PretextTeacher',
         50_737_187),
        ('teacher-edge', 3, [1, 1, 1], 8, 'spade', 'EdgeTeacher', 50_649_286),
        ('teacher-rand', 3, [76, 76, 152], 8, 'spade', 'RandomInitTeacher',
         50_702_643),
        ('teacher-spn-prior', 3, [64, 128, 256], 8, 'spade', 'SPNPriorTeacher',
         50_735_299),
    ]
}


def test_every_ablation_is_covered():
    assert sorted(ABLATIONS) == config_names('ablations')


@pytest.mark.parametrize('name', sorted(ABLATIONS))
def test_ablation_only_changes_its_knobs(name):
    """Same data, schedule and losses as spn_paris; the model differs only
    in the ablated part (Paris StreetView deterministic, as in the paper)."""
    cfg, base = load(name), load(PARIS)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                'train_cfg', 'param_scheduler', 'optim_wrapper',
                'test_evaluator'):
        assert cfg[key] == base[key], key
    flat, flat_base = flatten(cfg.model.to_dict()), flatten(
        base.model.to_dict())
    changed = {
        k
        for k in set(flat) | set(flat_base)
        if flat.get(k, '<absent>') != flat_base.get(k, '<absent>')
    }
    allowed = ('model.encdec.prior_learner.', 'model.encdec.image_generator.',
               'model.teacher', 'model.loss_prior')
    assert all(('model.' + k).startswith(allowed) for k in changed), changed


@pytest.mark.parametrize('name', sorted(ABLATIONS))
def test_ablation_builds_full_width_without_weight_files(name):
    scales, heads, blocks, fusion, teacher, params = ABLATIONS[name]
    model = build_model(load(name).model, init=False)
    gen = model.generator
    assert gen.prior_learner.num_scales == scales
    assert list(gen.prior_learner.head_channels) == heads
    assert len(gen.image_generator.middle_blocks) == blocks
    assert gen.image_generator.fusion == fusion
    if teacher is None:
        assert model.prior_distill is None
    else:
        assert type(model.teacher).__name__ == teacher
        # SPNInpaintor checked heads == teacher taps at build; restate it
        assert list(model.teacher.out_channels) == heads
    assert generator_params(model) == params


@pytest.mark.parametrize('name', sorted(ABLATIONS))
def test_ablation_tiny_copy_train_step_and_test_step(name):
    check_tiny_train_and_test_step(name)


def test_wo_teacher_trains_with_two_cpu_ddp_processes(tiny_data, tmp_path):
    """Unused distillation heads need DDP's find_unused_parameters."""
    base = osp.join(CONFIG_DIR, 'ablations', 'spn_paris_wo-teacher.py')
    data = osp.join(REPO_ROOT, 'tests', 'configs', 'tiny_data.py')
    cfg_file = tmp_path / 'wo_teacher_tiny.py'
    cfg_file.write_text(
        f'_base_ = [{base!r}, {data!r}]\n'
        f'model = dict(encdec=dict(prior_learner={TINY_LEARNER!r}, '
        f'image_generator=dict(num_middle_blocks=1, '
        f'**{TINY_IMAGE_GENERATOR!r})), disc=dict(base_channels=8))\n'
        'train_dataloader = dict(_base_.tiny_train_dataloader, '
        '_delete_=True)\n'
        'val_dataloader = dict(_base_.tiny_val_dataloader, _delete_=True)\n'
        'test_dataloader = dict(_base_.tiny_val_dataloader, _delete_=True)\n'
        'val_evaluator = _base_.tiny_evaluator\n'
        'test_evaluator = _base_.tiny_evaluator\n'
        "train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', "
        'max_iters=3, val_interval=100)\n'
        "param_scheduler = [dict(type='ConstantLR', factor=1.0)]\n"
        'default_hooks = dict(logger=dict(interval=1), '
        'prior_loss=dict(until_epoch=None), '
        'checkpoint=dict(interval=3, by_epoch=False))\n'
        'log_processor = dict(by_epoch=False)\n')
    cmd = [
        'bash',
        osp.join(TOOLS, 'dist_train.sh'),
        str(cfg_file), '2', '--work-dir',
        str(tmp_path / 'work'), '--cfg-options'
    ] + [
        f'{loader}.dataset.data_root={tiny_data}'
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    ]
    env = dict(PORT=str(free_port()), PYTHON=sys.executable)
    proc = run_cmd(cmd, env=env, timeout=600)
    log = proc.stdout + proc.stderr
    assert 'world_size=2' in log
    assert 'Iter(train) [3/3]' in log
    assert 'loss_prior: ' not in log and 'loss_rec: ' in log
