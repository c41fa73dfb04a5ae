"""Paper configs: full-width builds, tiny train/test steps, the recipe."""
import os.path as osp

import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS
from spn_config_helpers import torch_single_thread  # noqa: F401
from spn_config_helpers import (CONFIG_DIR, PAPER_CONFIGS, build_model,
                                check_tiny_train_and_test_step, config_names,
                                flatten, generator_params, load, tiny_cfg)
from utils import REPO_ROOT

# generator = learner (incl. distillation heads) + image generator
PAPER_GENERATOR_PARAMS = {
    'spn_places2.py': 50_702_643,
    'spn_celeba.py': 50_702_643,
    'spn_paris.py': 50_702_643,
    'spn_celebahq_prob.py': 68_512_883,
    'spn_paris_prob.py': 68_512_883,
}

# loop unit, length, LR milestone (x0.1 after it), prior loss used up to
# (configs/README.md; iteration counts of Places2/CelebA are our
# assumption, configs/README.md "Training schedules"; global batch 8 = 4 per
# GPU x 2 GPUs)
SCHEDULES = {
    'spn_places2.py': ('iter', 1_000_000, 750_000, None),
    'spn_celeba.py': ('iter', 800_000, 600_000, None),
    'spn_paris.py': ('epoch', 75, 50, 70),
    'spn_celebahq_prob.py': ('epoch', 70, 50, 60),
    'spn_paris_prob.py': ('epoch', 70, 50, 60),
    'mixing/aot-gan_spn-prior_places2.py': ('iter', 1_000_000, 750_000, None),
    'mixing/spn_places2_smpatch-disc_lsgan.py':
    ('iter', 1_000_000, 750_000, None),
}
for _name in config_names('ablations'):
    SCHEDULES[_name] = SCHEDULES['spn_paris.py']
for _name in config_names('paper_weights'):
    SCHEDULES[_name] = SCHEDULES[osp.basename(_name)]

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
    unit, length, milestone, prior_until = SCHEDULES[name]
    prior_hook = cfg.default_hooks.prior_loss
    assert prior_hook.type == 'PriorLossScheduleHook'
    if unit == 'iter':
        assert cfg.train_cfg.type == 'IterBasedTrainLoop'
        assert cfg.train_cfg.max_iters == length
        assert milestone == 0.75 * length  # our choice: the last quarter
        assert cfg.train_dataloader.sampler.type == 'SeededInfiniteSampler'
        assert prior_hook.get('until_iter') == prior_until
    else:  # the authors' epochs
        assert cfg.train_cfg.type == 'EpochBasedTrainLoop'
        assert cfg.train_cfg.max_epochs == length
        assert cfg.train_cfg.val_interval == 1
        assert cfg.train_dataloader.sampler.type == 'SeededDefaultSampler'
        assert cfg.train_dataloader.drop_last is True
        assert prior_hook.get('until_epoch') == prior_until
        assert cfg.default_hooks.checkpoint.by_epoch is True
    (sched, ) = cfg.param_scheduler
    assert sched.milestones == [milestone]
    assert sched.by_epoch is (unit == 'epoch')
    assert cfg.train_dataloader.dataset.type == 'SPNImageDataset'
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

    unit, _, milestone, _ = SCHEDULES[name]
    (sched_cfg, ) = cfg.param_scheduler
    for key in ('generator', 'disc'):
        sched = PARAM_SCHEDULERS.build(
            dict(sched_cfg, optimizer=wrappers[key]))
        assert type(sched).__name__ == 'MultiStepLR'
        assert sched.by_epoch is (unit == 'epoch')
        assert dict(sched.milestones) == {milestone: 1}
        assert sched.gamma == pytest.approx(0.1)
        group = wrappers[key].optimizer.param_groups[0]
        sched.last_step = milestone - 2
        sched.step()  # step (iteration or epoch) milestone - 1
        assert group['lr'] == pytest.approx(1e-4)
        sched.step()  # step milestone: x0.1 from the next one on
        assert group['lr'] == pytest.approx(1e-5)


def test_readme_lists_every_config():
    with open(osp.join(CONFIG_DIR, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    names = (
        PAPER_CONFIGS + config_names('ablations') + config_names('mixing') +
        config_names('paper_weights'))
    missing = [n for n in names if n not in readme]
    assert not missing, missing


@pytest.mark.parametrize('name', PAPER_CONFIGS)
def test_paper_configs_use_the_official_losses(name):
    """The defaults are the authors' code (configs/README.md)."""
    m = load(name).model
    assert m.disc_input_range == (0., 1.)
    assert (m.loss_rec.loss_weight, m.loss_rec.hole_weight) == (10., 2.)
    assert (m.loss_prior.loss_weight, m.loss_prior.alpha) == (1., 3.)
    assert m.loss_gan.loss_weight == 1.
    if 'prob' in name:
        assert m.loss_gan.gan_type == 'hinge'
        assert (m.loss_kl.direction, m.loss_kl.loss_weight) == ('official',
                                                                0.05)
        assert (m.loss_diversity.form, m.loss_diversity.loss_weight) == (
            'official', 1.)
        assert m.loss_percep.loss_weight == 10.
        assert m.loss_percep.get('layer_weights') is None  # 1/32 .. 1
        assert not m.vgg.get('norm_img', False)  # [0, 1] inputs
        assert not m.vgg.get('input_norm', False)  # no ImageNet norm
        assert m.loss_fm.loss_weight == 10.
        assert m.encdec.variational.num_samples == 2  # K in training
        assert 'num_samples' not in m.train_cfg
        nearest = load(name).test_dataloader.dataset.pipeline[1]
        assert nearest.interpolation == 'nearest'
    else:
        assert m.loss_gan.gan_type == 'vanilla'  # nsgan on logits
        for key in ('loss_kl', 'loss_diversity', 'loss_percep', 'loss_fm',
                    'vgg'):
            assert m.get(key) is None, key


PAPER_TEXT_KNOBS = {
    'model.loss_rec.hole_weight': 4.0,
    'model.loss_kl.direction': 'standard',
    'model.loss_diversity.form': 'paper',
}


@pytest.mark.parametrize('name', config_names('paper_weights'))
def test_paper_weights_variant_changes_only_the_paper_knobs(name):
    cfg, base = load(name), load(osp.basename(name))
    flat = flatten(cfg.to_dict())
    flat_base = flatten(base.to_dict())
    changed = {
        k: flat.get(k, '<absent>')
        for k in set(flat) | set(flat_base)
        if flat.get(k, '<absent>') != flat_base.get(k, '<absent>')
    }
    percep = {k: v for k, v in changed.items()
              if k.startswith('model.loss_percep.layer_weights.')}
    other = {k: v for k, v in changed.items() if k not in percep}
    expected = {k: v for k, v in PAPER_TEXT_KNOBS.items()
                if k.rsplit('.', 1)[0] in {p.rsplit('.', 1)[0]
                                           for p in flat_base}}
    assert other == expected
    if 'prob' in name:  # Eq. 13: 1/K sum over K=5 layers
        assert sorted(percep.values()) == [0.2] * 5
    else:
        assert not percep
