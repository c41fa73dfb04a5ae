"""Mixing examples: SPN's prior in AOT-GAN, mmagic's D/loss in SPN."""
import copy
import os.path as osp

import pytest
import torch
from mmagic.registry import MODELS
from spn_config_helpers import torch_single_thread  # noqa: F401
from spn_config_helpers import (build_model, check_tiny_train_and_test_step,
                                generator_params, load, make_batch,
                                simple_optims, tiny_cfg)
from utils import REPO_ROOT, run_tool

MIX_A = 'mixing/aot-gan_spn-prior_places2.py'
MIX_B = 'mixing/spn_places2_smpatch-disc_lsgan.py'
TINY_A = osp.join(REPO_ROOT, 'tests', 'configs',
                  'spn_mixing_aot_prior_tiny.py')
TINY_B = osp.join(REPO_ROOT, 'tests', 'configs',
                  'spn_mixing_smpatch_disc_tiny.py')


def tiny_a(**encdec):
    cfg = tiny_cfg(MIX_A)
    cfg.model.encdec.update(encdec)
    return build_model(cfg.model)


def inputs_of(model, batch=None):
    """Preprocessed (gt, mask, AOT-style generator input x)."""
    data = model.data_preprocessor(batch or make_batch(), True)
    ds = data['data_samples']
    mask = ds.mask.float()
    x = torch.cat([data['inputs'] + mask, mask], dim=1)
    return ds.gt_img, mask, x


def grads_of(module):
    return [p.grad for p in module.parameters() if p.requires_grad]


def has_grad(module):
    return any(g is not None and g.abs().sum() > 0 for g in grads_of(module))


# --------------------------------------------------------------------- #
# (a) SPN prior learner + distillation inside AOT-GAN
# --------------------------------------------------------------------- #
def test_mixing_a_full_width_builds_without_weight_files():
    cfg = load(MIX_A)
    assert not osp.exists(osp.join(REPO_ROOT, cfg.model.teacher.checkpoint))
    model = build_model(cfg.model, init=False)
    gen = model.generator
    host = MODELS.build(copy.deepcopy(cfg.model.encdec.host))
    learner = MODELS.build(copy.deepcopy(cfg.model.encdec.prior_learner))
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    # the host and learner are unchanged; only the 1x1 projection is added
    assert count(gen.host) == count(host)
    assert count(gen.prior_learner) == count(learner)
    assert generator_params(model) == count(host) + count(learner) + (
        256 * 256 + 256) == 37_885_299
    assert list(model.prior_distill.teacher.out_channels) == [76, 76, 152]
    assert not any('teacher.' in k for k in model.state_dict())


def test_mixing_a_tiny_train_step_logs_loss_prior_and_test_step():
    check_tiny_train_and_test_step(MIX_A)


def test_mixing_a_gradients_reach_learner_and_host_generator():
    model = tiny_a()
    gt, mask, x = inputs_of(model)
    gen = model.generator
    learner, host = gen.prior_learner, gen.host

    # host image loss only: reaches the host AND (through the fusion) the
    # learner trunk; the distillation heads are not on that path
    res = gen(x, return_aux=True)
    model.loss_l1_valid(res['out'], gt).backward()
    for part in (host.encoder, host.dilation_neck, host.decoder, gen.proj,
                 learner.enc_conv1, learner.rdbs, learner.recon_blocks):
        assert has_grad(part), part
    assert all(g is None for g in grads_of(learner.heads))
    gen.zero_grad(set_to_none=True)

    # prior loss only: reaches the learner (heads included), not the host
    res = gen(x, return_aux=True)
    targets = model.prior_distill.targets(gt)
    model.prior_distill(res['distill'], targets, mask).backward()
    assert has_grad(learner.heads) and has_grad(learner.enc_conv1)
    assert not has_grad(host)
    assert all(not p.requires_grad
               for p in model.prior_distill.teacher.parameters())


def test_mixing_a_train_step_updates_learner_host_and_disc():
    model = tiny_a()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    logs = model.train_step(make_batch(), simple_optims(model))
    assert {
        'loss_prior', 'loss_l1_valid', 'loss_g_fake', 'disc_losses', 'loss_g'
    } <= set(logs)
    assert logs['loss_prior'] > 0
    after = model.state_dict()
    for prefix in ('generator.prior_learner.heads.',
                   'generator.prior_learner.rdbs.', 'generator.host.encoder.',
                   'generator.host.decoder.', 'generator.proj.', 'disc.'):
        keys = [k for k in before if k.startswith(prefix)]
        assert keys and any(not torch.equal(before[k], after[k])
                            for k in keys), prefix


def test_mixing_a_changing_the_prior_changes_the_host_output():
    model = tiny_a()
    model.eval()
    _, _, x = inputs_of(model)
    gen = model.generator
    with torch.no_grad():
        out0 = gen(x)
        host_alone = gen.host(x)  # no prior pending: the plain host
        assert not torch.allclose(out0, host_alone, atol=1e-5)
        w = gen.prior_learner.recon_blocks[0].conv1.weight
        w.add_(0.5 * torch.randn_like(w))
        out1 = gen(x)
    assert out1.shape == x[:, :3].shape
    assert (out1 - out0).abs().max() > 1e-4


def test_mixing_a_zero_init_projection_starts_as_the_plain_host():
    model = tiny_a(zero_init_proj=True)
    model.eval()
    _, _, x = inputs_of(model)
    gen = model.generator
    with torch.no_grad():
        out = gen(x)
        assert torch.equal(out, gen.host(x))
        w = gen.prior_learner.recon_blocks[0].conv1.weight
        w.add_(torch.randn_like(w))
        assert torch.equal(gen(x), out)
    assert gen.proj.weight.abs().sum() == 0


def test_prior_guided_concat_mode_feeds_the_host_input():
    k = 3
    cfg = tiny_cfg(MIX_A).model.encdec
    cfg.update(fuse_mode='concat', fuse_channels=k)
    cfg.host.encoder.in_channels = 4 + k
    torch.manual_seed(0)
    gen = MODELS.build(cfg)
    x = torch.cat([
        torch.rand(2, 3, 64, 64) * 2 - 1,
        (torch.rand(2, 1, 64, 64) > 0.7).float()
    ], 1)
    with torch.no_grad():
        out0 = gen(x)
        gen.prior_learner.enc_conv1.weight.mul_(2.)
        out1 = gen(x)
    assert out0.shape == (2, 3, 64, 64)
    assert not torch.allclose(out0, out1)


def test_prior_guided_output_ignores_pixels_inside_the_hole():
    """The learner sees holes as 1.0 whatever the host filled in."""
    model = tiny_a()
    model.eval()
    gen = model.generator
    x = torch.cat(
        [torch.rand(1, 3, 32, 32) * 2 - 1,
         torch.zeros(1, 1, 32, 32)], 1)
    x[:, 3, 8:20, 8:24] = 1
    a = gen.learner_input(x[:, :3], x[:, 3:])
    y = x.clone()
    y[:, :3] = torch.where(y[:, 3:].bool(), torch.rand_like(y[:, :3]),
                           y[:, :3])
    b = gen.learner_input(y[:, :3], y[:, 3:])
    assert torch.equal(a, b) and a.shape == (1, 4, 64, 64)


def test_prior_guided_errors_name_the_field():
    cfg = tiny_cfg(MIX_A).model
    with pytest.raises(ValueError, match='fuse_module'):
        MODELS.build(dict(cfg.encdec, fuse_module='no_such_module'))
    gen = MODELS.build(dict(cfg.encdec, fuse_channels=7))
    with pytest.raises(ValueError, match='fuse_channels'):
        gen(torch.zeros(1, 4, 64, 64))
    with pytest.raises(ValueError, match='head_channels'):
        bad = copy.deepcopy(cfg)
        bad.encdec.prior_learner.head_channels = [2, 2, 2]
        MODELS.build(bad)
    with pytest.raises(ValueError, match='loss_prior'):
        MODELS.build(dict(cfg, loss_prior=None))


def test_mixing_a_prior_loss_cut_follows_the_schedule_hook():
    from types import SimpleNamespace

    from spn_mm.engine.hooks import PriorLossScheduleHook
    model = tiny_a()
    hook = PriorLossScheduleHook(until_iter=3)
    hook.before_train_iter(SimpleNamespace(model=model, epoch=0, iter=3), 0)
    logs = model.train_step(make_batch(), simple_optims(model))
    assert 'loss_prior' not in logs and 'loss_l1_valid' in logs
    hook.before_train_iter(SimpleNamespace(model=model, epoch=0, iter=2), 0)
    assert model.prior_distill.enabled


# --------------------------------------------------------------------- #
# (b) mmagic discriminator + GANLoss inside SPN
# --------------------------------------------------------------------- #
def test_mixing_b_uses_mmagic_disc_and_loss():
    cfg = load(MIX_B)
    model = build_model(cfg.model, init=False)
    assert type(model.disc).__name__ == 'SoftMaskPatchDiscriminator'
    assert type(model).__name__ == 'SPNInpaintor'
    assert model.loss_gan.gan_type == 'lsgan'
    assert generator_params(model) == 50_702_643
    # a plain-tensor D: logits only, no feature matching
    logits, feats = model._disc(torch.zeros(1, 3, 64, 64))
    assert torch.is_tensor(logits) and feats is None
    # mmagic's discriminators see mmagic's [-1, 1] range, SPN's see [0, 1]
    assert model.disc_input_range == (-1., 1.)
    img01 = torch.rand(2, 3, 8, 8)
    assert torch.equal(model.disc_view(img01), img01 * 2 - 1)


def test_mixing_b_tiny_train_step_and_test_step():
    check_tiny_train_and_test_step(MIX_B)


# --------------------------------------------------------------------- #
# both examples through tools/train.py (2 iterations + validation)
# --------------------------------------------------------------------- #
@pytest.mark.parametrize(
    'cfg_file,log_keys', [
        (TINY_A, ('loss_prior', 'loss_l1_valid', 'disc_losses')),
        (TINY_B, ('loss_prior', 'loss_rec', 'loss_d', 'loss_g_adv')),
    ],
    ids=['aot_spn_prior', 'spn_smpatch_disc'])
def test_mixing_example_runs_through_train_tool(cfg_file, log_keys, tiny_data,
                                                tmp_path):
    work = str(tmp_path / 'work')
    proc = run_tool('train.py', [
        cfg_file, '--work-dir', work, '--cfg-options',
        f'train_dataloader.dataset.data_root={tiny_data}',
        f'val_dataloader.dataset.data_root={tiny_data}',
        f'test_dataloader.dataset.data_root={tiny_data}'
    ])
    log = proc.stdout + proc.stderr
    assert 'Iter(train) [2/2]' in log
    for key in log_keys:
        assert f'{key}: ' in log, key
    assert 'PSNR' in log  # validation ran at iteration 2
    state = torch.load(
        osp.join(work, 'iter_2.pth'), map_location='cpu', weights_only=False)
    keys = state['state_dict'].keys()
    assert any(k.startswith('disc.') for k in keys)
    assert any(k.startswith('generator.prior_learner.') for k in keys)
    assert not any(k.startswith('teacher.') for k in keys)
