"""SPNInpaintor: train_step / test_step with tiny det and prob models."""
import copy
import os.path as osp

import pytest
import torch
from mmagic.registry import MODELS
from mmagic.structures import DataSample
from mmengine.config import Config
from mmengine.optim import OptimWrapper, OptimWrapperDict
from utils import REPO_ROOT

CFG_DIR = osp.join(REPO_ROOT, 'tests', 'configs')


def build(name: str):
    cfg = Config.fromfile(osp.join(CFG_DIR, name))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def optims(model, lr=1e-3):
    return OptimWrapperDict(
        generator=OptimWrapper(
            torch.optim.Adam(model.generator.parameters(), lr=lr,
                             betas=(0.0, 0.9))),
        disc=OptimWrapper(
            torch.optim.Adam(model.disc.parameters(), lr=lr,
                             betas=(0.0, 0.9))))


def make_batch(batch: int = 2, size: int = 64, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    samples, inputs = [], []
    for i in range(batch):
        gt = torch.rand(3, size, size, generator=g) * 255
        mask = torch.zeros(1, size, size)
        mask[:, 16 + 4 * i:40, 12:44] = 1
        img = gt * (1 - mask) + 127.5 * mask
        ds = DataSample(gt_img=gt, mask=mask)
        ds.set_metainfo(dict(sample_idx=i))
        samples.append(ds)
        inputs.append(img)
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('name', ['spn_tiny_det.py', 'spn_tiny_prob.py'])
def test_train_step_logs_every_loss_and_updates_g_and_d(name):
    model = build(name)
    ow = optims(model)
    teacher_before = copy.deepcopy(model.teacher.state_dict())
    g0 = copy.deepcopy(model.generator.state_dict())
    d0 = copy.deepcopy(model.disc.state_dict())
    logs = model.train_step(make_batch(), ow)
    expected = {'loss_d', 'loss_g_adv', 'loss_rec', 'loss_prior', 'loss_g'}
    if 'prob' in name:
        expected |= {'loss_kl', 'loss_fm', 'loss_percep', 'loss_div'}
    assert expected <= set(logs), set(logs)
    changed = lambda a, b: any(not torch.equal(a[k], b[k]) for k in a)  # noqa
    assert changed(g0, model.generator.state_dict())
    assert changed(d0, model.disc.state_dict())
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, teacher_before[k])
    # D and G optimizers stepped separately, once each
    for key in ('generator', 'disc'):
        state = ow[key].optimizer.state
        steps = {float(s['step']) for s in state.values()}
        assert steps == {1.0}, (key, steps)


def test_gradients_reach_learner_variational_generator_not_teacher():
    model = build('spn_tiny_prob.py')
    data = model.data_preprocessor(make_batch(), True)
    masked, ds = data['inputs'], data['data_samples']
    targets = model.teacher(ds.gt_img)
    res = model.generator.forward_train(masked, ds.mask, num_samples=2)
    losses = model.generator_loss(res, ds.gt_img, ds.mask, targets, None,
                                  None)
    sum(losses.values()).backward()
    gen = model.generator
    for part in (gen.prior_learner, gen.variational, gen.image_generator):
        grads = [p.grad for p in part.parameters()]
        assert all(g is not None for g in grads), type(part).__name__
        assert any(g.abs().sum() > 0 for g in grads)
    assert all(not p.requires_grad for p in model.teacher.parameters())


def test_teacher_not_in_state_dict_or_optimizer():
    model = build('spn_tiny_det.py')
    assert not any('teacher.' in k for k in model.state_dict())
    ow = optims(model)
    opt_params = {id(p) for w in ow.values()
                  for g in w.optimizer.param_groups for p in g['params']}
    assert not any(id(p) in opt_params for p in model.teacher.parameters())
    model.train()
    assert not model.teacher.training
    # strict loading of a teacher-free checkpoint works
    model.load_state_dict(model.state_dict(), strict=True)


def test_thirty_steps_on_fixed_batch_lower_rec_and_prior_losses():
    model = build('spn_tiny_det.py')
    ow = optims(model, lr=2e-3)
    batch = make_batch(seed=1)
    first = model.train_step(batch, ow)
    for _ in range(29):
        last = model.train_step(batch, ow)
    assert last['loss_rec'] < 0.8 * first['loss_rec']
    assert last['loss_prior'] < 0.8 * first['loss_prior']


def test_prior_loss_switched_off_by_the_schedule_hook():
    """PriorLossScheduleHook decides from the runner position alone."""
    from types import SimpleNamespace

    from spn_mm.engine.hooks import PriorLossScheduleHook
    model = build('spn_tiny_det.py')
    hook = PriorLossScheduleHook(until_iter=5)
    for it, expected in [(0, True), (4, True), (5, False), (9, False)]:
        hook.before_train_iter(SimpleNamespace(model=model, epoch=0, iter=it),
                               0)
        assert model.prior_distill.enabled is expected, it
    logs = model.train_step(make_batch(), optims(model))
    assert 'loss_prior' not in logs
    by_epoch = PriorLossScheduleHook(until_epoch=70)
    assert by_epoch.active(69, 10**6) and not by_epoch.active(70, 0)
    old = Config.fromfile(osp.join(CFG_DIR, 'spn_tiny_det.py')).model
    old.train_cfg['prior_loss_until_iter'] = 3
    with pytest.raises(ValueError, match='PriorLossScheduleHook'):
        MODELS.build(old)


@pytest.mark.parametrize('name,k', [('spn_tiny_det.py', 1),
                                    ('spn_tiny_prob.py', 2)])
def test_test_step_returns_composited_predictions(name, k):
    model = build(name)
    batch = make_batch()
    with torch.no_grad():
        out = model.test_step(batch)
    assert len(out) == 2
    for sample, ds in zip(out, batch['data_samples']):
        pred = sample.output.pred_img
        shape = (3, 64, 64) if k == 1 else (k, 3, 64, 64)
        assert pred.shape == shape
        gt = ds.gt_img  # 0-255, RGB; destruct keeps channel order here
        valid = (1 - ds.mask).bool().expand(3, -1, -1)
        preds = pred if k > 1 else pred[None]
        for p in preds:
            # known pixels are pasted back (up to 8-bit rounding of inputs)
            assert torch.allclose(p[valid], gt[valid], atol=1e-3)


def test_prob_test_samples_seeded_and_independent_of_batch():
    model = build('spn_tiny_prob.py')
    model.test_cfg.update(num_samples=2, seed=7)
    batch = make_batch(batch=2)
    with torch.no_grad():
        a = model.test_step(batch)
        b = model.test_step(batch)
        single = model.test_step(
            dict(inputs=batch['inputs'][1:],
                 data_samples=batch['data_samples'][1:]))
    assert torch.equal(a[0].output.pred_img, b[0].output.pred_img)
    # same noise for image 1 in a batch of 2 or alone (float-level equal)
    assert torch.allclose(a[1].output.pred_img, single[0].output.pred_img,
                          atol=1e-3)
    s = a[0].output.pred_img
    assert not torch.equal(s[0], s[1])  # two different samples


def test_perceptual_and_diversity_share_one_vgg_pass():
    """model.vgg runs once over the predictions per step, for both losses;
    the values equal the stand-alone losses with their own VGG passes."""
    from spn_mm.models.losses import (PerceptualDiversityLoss,
                                      SPNPerceptualLoss)
    model = build('spn_tiny_prob.py')
    batches = []
    handle = model.vgg.get_extractor('cpu').register_forward_hook(
        lambda module, args, out: batches.append(args[0].shape[0]))
    try:
        model.train_step(make_batch(batch=2), optims(model))
    finally:
        handle.remove()
    assert batches == [2 * 2, 2]  # K*B predictions once, B ground truths
    data = model.data_preprocessor(make_batch(), True)
    masked, ds = data['inputs'], data['data_samples']
    with torch.no_grad():
        res = model.generator.forward_train(masked, ds.mask, num_samples=2)
        losses = model.generator_loss(res, ds.gt_img, ds.mask, None, None,
                                      None)
        percep = SPNPerceptualLoss(loss_weight=10., allow_random=True)
        div = PerceptualDiversityLoss(form='official', allow_random=True)
        ref_percep = percep(res['out01'], ds.gt_img)
        ref_div = div(res['out01'], mask=ds.mask, num_samples=2)
    assert torch.allclose(losses['loss_percep'], ref_percep, rtol=1e-6)
    assert torch.allclose(losses['loss_div'], ref_div, rtol=1e-6)


def test_vgg_config_errors_and_missing_file_fails_at_init_weights(tmp_path):
    """A wrong vgg_path stops training when it starts, naming the key; an
    old-style config (vgg_path on a loss) or no model.vgg fails at build."""
    cfg = Config.fromfile(osp.join(CFG_DIR, 'spn_tiny_prob.py')).model
    old = copy.deepcopy(cfg)
    old.loss_percep.update(vgg_path='vgg19.pth')
    with pytest.raises(ValueError, match=r'model\.loss_percep .*model\.vgg'):
        MODELS.build(old)
    with pytest.raises(ValueError, match=r'need model\.vgg'):
        MODELS.build(dict(cfg, vgg=None))
    cfg.vgg.update(vgg_path=str(tmp_path / 'no_vgg19.pth'),
                   allow_random=False)
    model = MODELS.build(cfg)  # building reads no weights
    # nothing of model.vgg is saved
    assert all(k.startswith(('generator.', 'disc.'))
               for k in model.state_dict())
    with pytest.raises(FileNotFoundError, match='vgg_path'):
        model.init_weights()


def test_training_samples_come_from_the_variational_prior():
    assert build('spn_tiny_prob.py').num_train_samples == 2
    assert build('spn_tiny_det.py').num_train_samples == 1
    cfg = Config.fromfile(osp.join(CFG_DIR, 'spn_tiny_prob.py')).model
    cfg.train_cfg['num_samples'] = 3
    with pytest.raises(ValueError, match='variational.num_samples'):
        MODELS.build(cfg)
