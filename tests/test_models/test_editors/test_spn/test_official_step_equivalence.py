"""One SPNInpaintor.train_step equals the authors' training step.

The reference below restates the official step (configs/README.md table)
in plain torch on official-convention [0, 1] tensors: it calls the
generator and discriminator modules directly (D call order as official:
real, fake.detach(), then fake after the D update), writes every loss out
from the formulas, and updates with ``torch.optim.Adam(betas=(0, 0.9))``.
It never uses the project's loss classes or train_step helpers.

Everything runs in float64: in float32, Adam's sign-like first steps turn
rounding noise in near-zero gradients into ~1e-4 weight jumps even between
two correct implementations.
"""
import copy
import os.path as osp
from typing import Dict, List

import pytest
import torch
import torch.nn.functional as F
from mmagic.registry import MODELS
from mmagic.structures import DataSample
from mmengine.config import Config
from mmengine.optim import OptimWrapper, OptimWrapperDict
from utils import REPO_ROOT

from spn_mm.models.losses.vgg_extractor import (clear_vgg19_cache,
                                                get_vgg19_extractor)

CFG_DIR = osp.join(REPO_ROOT, 'tests', 'configs')
LR = 1e-4
BATCH, SIZE, STEPS = 2, 64, 3
# official VGG19 slices end at relu1_1..relu5_1 = features[1, 6, 11, 20, 29]
VGG_TAPS = (1, 6, 11, 20, 29)
VGG_WEIGHTS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.)


@pytest.fixture(autouse=True)
def float64_vgg():
    """The shared random VGG in float64 for these tests only."""
    clear_vgg19_cache()
    yield
    clear_vgg19_cache()


def build_model(name: str) -> torch.nn.Module:
    cfg = Config.fromfile(osp.join(CFG_DIR, name))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.double()


def make_data(seed: int = 0):
    """A dataloader batch (0-255 images, rectangular holes) and its
    official-convention view (gt01, mask)."""
    g = torch.Generator().manual_seed(seed)
    samples, inputs, gts, masks = [], [], [], []
    for i in range(BATCH):
        gt = (torch.rand(3, SIZE, SIZE, generator=g,
                         dtype=torch.float64) * 255).round()
        mask = torch.zeros(1, SIZE, SIZE, dtype=torch.float64)
        mask[:, 12 + 6 * i:44, 8 + 4 * i:40] = 1
        samples.append(DataSample(gt_img=gt, mask=mask))
        inputs.append(gt * (1 - mask))
        gts.append(gt / 255.)
        masks.append(mask)
    data = dict(inputs=inputs, data_samples=samples)
    return data, torch.stack(gts), torch.stack(masks)


def fixed_targets(model, seed: int = 1) -> List[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    sizes = model.teacher.target_sizes(SIZE, SIZE)
    return [
        torch.rand(BATCH, c, h, w, generator=g, dtype=torch.float64)
        for c, (h, w) in zip(model.teacher.out_channels, sizes)
    ]


def down(mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return F.interpolate(mask, size=like.shape[-2:], mode='nearest')


def vgg_feats(vgg, x: torch.Tensor) -> List[torch.Tensor]:
    feats = []
    for idx, layer in enumerate(vgg.features):
        x = layer(x)
        if idx in VGG_TAPS:
            feats.append(x)
        if idx == VGG_TAPS[-1]:
            break
    return feats


def reference_step(gen, disc, opt_g, opt_d, gt01, mask, masked, targets,
                   prob: bool, grads: Dict, seed: int) -> Dict[str, float]:
    """The official iteration, written out (returns the logged terms)."""
    k = 2 if prob else 1
    torch.manual_seed(seed)
    res = gen(masked, mask, mode='train', num_samples=k)
    pred01 = res['out01']
    gt_k, m_k = gt01.repeat(k, 1, 1, 1), mask.repeat(k, 1, 1, 1)

    # discriminator: real, then the detached fake
    opt_d.zero_grad()
    real_logits, real_feats = disc(gt01)
    fake_logits, _ = disc(pred01.detach())
    if prob:  # hinge
        loss_d = 0.5 * (torch.relu(1 - real_logits).mean() +
                        torch.relu(1 + fake_logits).mean())
    else:  # nsgan: BCE on sigmoid(D)
        loss_d = 0.5 * (
            F.binary_cross_entropy(
                torch.sigmoid(real_logits), torch.ones_like(real_logits)) +
            F.binary_cross_entropy(
                torch.sigmoid(fake_logits), torch.zeros_like(fake_logits)))
    loss_d.backward()
    if 'disc' not in grads:
        grads['disc'] = [p.grad.clone() for p in disc.parameters()]
    opt_d.step()

    # generator, against the updated D
    fake_logits, fake_feats = disc(pred01)
    if prob:
        loss_adv = -fake_logits.mean()
    else:
        loss_adv = F.binary_cross_entropy(
            torch.sigmoid(fake_logits), torch.ones_like(fake_logits))
    loss_rec = 10 * torch.mean(torch.abs(pred01 - gt_k) * (1 + 2 * m_k))
    loss_prior = 0.
    for p, t in zip(res['distill'], targets):
        m_l = down(m_k, p)
        loss_prior = loss_prior + torch.mean(
            torch.abs(p - t.repeat(k, 1, 1, 1)) * (1 + 3 * m_l))
    terms = dict(loss_g_adv=loss_adv, loss_rec=loss_rec,
                 loss_prior=loss_prior)
    if prob:
        mu, sigma = res['dist'].loc, res['dist'].scale
        # KL(N(0, 1) || N(mu, sigma)), mean over (B, C, h, w)
        terms['loss_kl'] = 0.05 * torch.mean(
            0.5 * (1 / sigma**2 + mu**2 / sigma**2 - 1 + torch.log(sigma**2)))
        vgg = get_vgg19_extractor(None, True, 'cpu')
        f_pred = vgg_feats(vgg, pred01)
        with torch.no_grad():
            f_gt = vgg_feats(vgg, gt01)
        terms['loss_percep'] = 10 * sum(
            w * torch.mean(torch.abs(fp - fg.repeat(k, 1, 1, 1)))
            for w, fp, fg in zip(VGG_WEIGHTS, f_pred, f_gt))
        s = 0.
        for f in f_pred:
            f1, f2 = f[:BATCH], f[BATCH:]
            m_l = down(mask, f)
            s = s + torch.mean(torch.abs(f1 * m_l - f2 * m_l)) / m_l.mean()
        terms['loss_div'] = 1 / (s + 1e-5)
        terms['loss_fm'] = 10 * sum(
            torch.mean(torch.abs(ff - fr.detach().repeat(k, 1, 1, 1)))
            for ff, fr in zip(fake_feats, real_feats)) / len(fake_feats)
    loss_g = sum(terms.values())
    opt_g.zero_grad()
    g_params = list(gen.parameters())
    g_grads = torch.autograd.grad(loss_g, g_params, allow_unused=True)
    for p, g in zip(g_params, g_grads):
        p.grad = torch.zeros_like(p) if g is None else g
    if 'generator' not in grads:
        grads['generator'] = [p.grad.clone() for p in g_params]
    opt_g.step()
    logs = {name: float(v.detach()) for name, v in terms.items()}
    logs['loss_d'] = float(loss_d.detach())
    logs['loss_g'] = float(loss_g.detach())
    return logs


def recording(wrapper: OptimWrapper, key: str, grads: Dict) -> OptimWrapper:
    """Keep the gradients the first ``step`` of ``wrapper`` sees."""
    step = wrapper.optimizer.step

    def wrapped(*args, **kwargs):
        if key not in grads:
            grads[key] = [
                torch.zeros_like(p) if p.grad is None else p.grad.clone()
                for group in wrapper.optimizer.param_groups
                for p in group['params']
            ]
        return step(*args, **kwargs)

    wrapper.optimizer.step = wrapped
    return wrapper


def close(a: torch.Tensor, b: torch.Tensor, rtol: float,
          scale: float = 0.) -> bool:
    """allclose with an absolute floor of 1e-10 x ``scale`` (gradients that
    are zero in exact arithmetic, e.g. conv biases before an instance norm,
    are float64 rounding noise around 1e-17)."""
    atol = 1e-10 * max(scale, float(b.abs().max()), 1e-30)
    return torch.allclose(a, b, rtol=rtol, atol=atol)


def mismatches(name: str, mutate=None) -> List[str]:
    """Run STEPS model steps and reference steps; list what differs."""
    prob = 'prob' in name
    model = build_model(name)
    if mutate is not None:
        mutate(model)
    data, gt01, mask = make_data()
    targets = fixed_targets(model)
    model.teacher.forward = lambda img, view=None: [t for t in targets]
    if prob:
        get_vgg19_extractor(None, True, 'cpu').double()

    gen_ref = copy.deepcopy(model.generator)
    disc_ref = copy.deepcopy(model.disc)
    opt_g_ref = torch.optim.Adam(gen_ref.parameters(), lr=LR, betas=(0., .9))
    opt_d_ref = torch.optim.Adam(disc_ref.parameters(), lr=LR, betas=(0., .9))
    model_grads, ref_grads = {}, {}
    optims = OptimWrapperDict(
        generator=recording(
            OptimWrapper(
                torch.optim.Adam(model.generator.parameters(), lr=LR,
                                 betas=(0., .9))), 'generator', model_grads),
        disc=recording(
            OptimWrapper(
                torch.optim.Adam(model.disc.parameters(), lr=LR,
                                 betas=(0., .9))), 'disc', model_grads))
    # mmagic's convention for the generator input: [-1, 1]
    masked = (2 * gt01 - 1) * (1 - mask)

    bad = []
    for step in range(STEPS):
        torch.manual_seed(100 + step)  # same latent noise on both sides
        logs = model.train_step(copy.deepcopy(data), optims)
        ref = reference_step(gen_ref, disc_ref, opt_g_ref, opt_d_ref, gt01,
                             mask, masked, targets, prob, ref_grads,
                             100 + step)
        for term, value in ref.items():
            got = float(logs[term])
            if abs(got - value) > 1e-5 * abs(value):
                bad.append(f'step {step} {term}: {got} vs {value}')
    for key, module in (('generator', model.generator), ('disc',
                                                          model.disc)):
        names = [n for n, _ in module.named_parameters()]
        scale = max(float(g.abs().max()) for g in ref_grads[key])
        for n, a, b in zip(names, model_grads[key], ref_grads[key]):
            if not close(a, b, 1e-4, scale):
                bad.append(f'first gradient {key}.{n}')
    pairs = [('generator', model.generator, gen_ref,
              optims['generator'].optimizer, opt_g_ref),
             ('disc', model.disc, disc_ref, optims['disc'].optimizer,
              opt_d_ref)]
    for key, mod, mod_ref, opt, opt_ref in pairs:
        # Parameters whose gradient is zero in exact arithmetic (conv biases
        # before an instance/region norm) get float64 noise gradients; at
        # the large gradient scale of the prob losses (1 / (S + eps)) the
        # noise exceeds Adam's eps and each step moves them by up to +-lr in
        # a noise-decided direction. They are held to that bound.
        scale = max(float(g.abs().max()) for g in ref_grads[key])
        null = {
            n
            for (n, _), g in zip(mod_ref.named_parameters(), ref_grads[key])
            if float(g.abs().max()) < 1e-9 * scale
        }
        ref_state = mod_ref.state_dict()
        if any(not n.endswith('.bias') for n in null):  # only norm-fed biases
            bad.append(f'{key}: zero-gradient weights {sorted(null)}')
        for n, t in mod.state_dict().items():  # weights + spectral norm u/v
            if n in null:
                ok = float((t - ref_state[n]).abs().max()) <= 2 * STEPS * LR
            else:
                ok = close(t, ref_state[n], 1e-5)
            if not ok:
                bad.append(f'after {STEPS} steps {key}.{n}')
        params = [p for g in opt.param_groups for p in g['params']]
        params_ref = [p for g in opt_ref.param_groups for p in g['params']]
        scales = {
            s: max(float(opt_ref.state[q][s].abs().max()) for q in params_ref)
            for s in ('exp_avg', 'exp_avg_sq')
        }
        for i, (p, q) in enumerate(zip(params, params_ref)):
            sa, sb = opt.state[p], opt_ref.state[q]
            if float(sa['step']) != float(sb['step']):
                bad.append(f'{key} Adam step {i}')
            for s in ('exp_avg', 'exp_avg_sq'):
                if not close(sa[s], sb[s], 1e-5, scales[s]):
                    bad.append(f'{key} Adam {s} {i}')
    return bad


@pytest.mark.parametrize('name', ['spn_tiny_det.py', 'spn_tiny_prob.py'])
def test_train_step_equals_the_official_step(name):
    bad = mismatches(name)
    assert not bad, bad[:20]


def _paper_hole_weight(model):
    model.loss_rec.hole_weight = 4.0


def _disc_sees_minus_one_to_one(model):
    model.disc_input_range = (-1., 1.)


@pytest.mark.parametrize('mutate',
                         [_paper_hole_weight, _disc_sees_minus_one_to_one])
def test_the_comparison_catches_known_deviations(mutate):
    """The paper's 1 + 4M and a [-1, 1] discriminator input both break it."""
    bad = mismatches('spn_tiny_det.py', mutate)
    assert bad
    if mutate is _paper_hole_weight:
        assert any('loss_rec' in b for b in bad)
    else:
        assert any('loss_d' in b for b in bad)
