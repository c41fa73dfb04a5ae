import copy

import pytest
import torch
from torch.distributions import Normal
from torch.utils.flop_counter import FlopCounterMode

from spn_mm.converters import official_generator_cfg
from spn_mm.models.editors.spn import SPNGenerator
from spn_mm.registry import MODELS
from utils import TINY_GEN, TINY_LEARNER, TINY_VAR


def _tiny(prob: bool, **learner_kw) -> SPNGenerator:
    torch.manual_seed(0)
    learner = dict(TINY_LEARNER, **learner_kw)
    return MODELS.build(
        dict(
            type='SPNGenerator',
            prior_learner=learner,
            image_generator=copy.deepcopy(TINY_GEN),
            variational=copy.deepcopy(TINY_VAR) if prob else None))


def _inputs(b=2, size=32, seed=1):
    g = torch.Generator().manual_seed(seed)
    gt = torch.rand(b, 3, size, size, generator=g) * 2 - 1
    mask = torch.zeros(b, 1, size, size)
    mask[:, :, 4:20, 8:24] = 1
    mask[-1, :, 20:28, 2:10] = 1
    masked = gt * (1 - mask)
    return gt, masked, mask


def _numel(module) -> int:
    return sum(p.numel() for p in module.parameters())


# ---------------------------------------------------------------------- #
# full width: counts and FLOPs on the meta device
# ---------------------------------------------------------------------- #
@pytest.mark.parametrize('variant,middle,total', [
    ('det', 8, 50_702_643),
    ('prob', 8, 68_512_883),
    ('det', 4, 38_898_995),
    ('det', 12, 62_506_291),
])
def test_full_width_param_counts(variant, middle, total):
    with torch.device('meta'):
        gen = MODELS.build(official_generator_cfg(variant, middle))
    assert _numel(gen) == total
    if middle == 8:
        learner = {'det': 22_618_672, 'prob': 24_388_400}[variant]
        image = {'det': 28_083_971, 'prob': 27_604_547}[variant]
        assert _numel(gen.prior_learner) == learner
        assert _numel(gen.prior_learner.heads) == 53_808
        assert _numel(gen.image_generator) == image
        if variant == 'prob':
            assert _numel(gen.variational) == 16_519_936
            # learner incl. variational, as in the reference table
            assert learner + 16_519_936 == 40_908_336


@pytest.mark.parametrize('variant,gflops', [('det', 726.9), ('prob', 691.8)])
def test_full_width_flops_meta(variant, gflops):
    with torch.device('meta'):
        gen = MODELS.build(official_generator_cfg(variant))
    gen.train()
    masked = torch.zeros(1, 3, 256, 256, device='meta')
    mask = torch.zeros(1, 1, 256, 256, device='meta')
    with FlopCounterMode(display=False) as counter:
        res = gen.forward_train(masked, mask, num_samples=1)
    assert counter.get_total_flops() / 1e9 == pytest.approx(gflops, abs=0.05)
    assert res['out'].shape == (1, 3, 256, 256)
    assert [tuple(p.shape) for p in res['priors']] == [(1, 64, 256, 256),
                                                       (1, 128, 128, 128),
                                                       (1, 256, 64, 64)]
    assert [tuple(d.shape) for d in res['distill']] == [(1, 76, 256, 256),
                                                        (1, 76, 128, 128),
                                                        (1, 152, 64, 64)]
    if variant == 'prob':
        assert res['dist'].loc.shape == (1, 128, 8, 8)


# ---------------------------------------------------------------------- #
# tiny width forward behaviour
# ---------------------------------------------------------------------- #
def test_registered_and_forward_shapes():
    assert MODELS.get('SPNGenerator') is SPNGenerator
    gen = _tiny(prob=False).eval()
    _, masked, mask = _inputs()
    out = gen(torch.cat([masked, mask], 1))
    assert out.shape == (2, 3, 32, 32)
    assert out.min() >= -1 and out.max() <= 1
    assert not gen.is_probabilistic
    with pytest.raises(ValueError, match=r'\(B, 4, H, W\)'):
        gen(masked)


@pytest.mark.parametrize('prob', [False, True])
def test_forward_train_outputs(prob):
    gen = _tiny(prob).train()
    _, masked, mask = _inputs()
    res = gen.forward_train(masked, mask)
    k = 2 if prob else 1
    assert set(res) == {'out', 'out01', 'priors', 'distill', 'dist'}
    assert torch.allclose(res['out01'], (res['out'] + 1) / 2, atol=1e-6)
    assert res['out'].shape == (2 * k, 3, 32, 32)
    assert [tuple(p.shape) for p in res['priors']] == [(2 * k, 8, 32, 32),
                                                       (2 * k, 16, 16, 16),
                                                       (2 * k, 32, 8, 8)]
    assert [tuple(d.shape) for d in res['distill']] == [(2 * k, 5, 32, 32),
                                                        (2 * k, 5, 16, 16),
                                                        (2 * k, 10, 8, 8)]
    if prob:
        assert isinstance(res['dist'], Normal)
        assert res['dist'].loc.shape == (2, 4, 1, 1)
        # two independent samples per input
        assert not torch.equal(res['out'][:2], res['out'][2:])
        assert gen.forward_train(masked, mask, num_samples=3)['out'].shape \
            == (6, 3, 32, 32)
    else:
        assert res['dist'] is None
        with pytest.raises(ValueError, match='variational'):
            gen.forward_train(masked, mask, num_samples=2)


@pytest.mark.parametrize('prob', [False, True])
def test_hole_pixels_do_not_matter(prob):
    gen = _tiny(prob).eval()
    gt, masked, mask = _inputs()
    # a "masked image" whose hole pixels still hold ground truth / noise
    leaky = gt.clone()
    noisy = masked + mask * torch.randn_like(masked)
    with torch.no_grad():
        ref = gen.forward_test(masked, mask, seed=3)
        assert torch.equal(gen.forward_test(leaky, mask, seed=3), ref)
        assert torch.equal(gen.forward_test(noisy, mask, seed=3), ref)
        if not prob:
            train_out = gen.forward_train(masked, mask)['out']
            assert torch.equal(
                gen.forward_train(leaky, mask)['out'], train_out)


def test_gradients_reach_every_part():
    gen = _tiny(prob=True).train()
    _, masked, mask = _inputs()
    res = gen.forward_train(masked, mask)
    loss = res['out'].mean() + sum(d.mean() for d in res['distill']) + \
        res['dist'].scale.mean()
    loss.backward()
    for part in (gen.prior_learner, gen.variational, gen.image_generator):
        grads = [p.grad for p in part.parameters()]
        assert all(g is not None for g in grads), type(part).__name__
        assert sum(g.abs().sum() for g in grads) > 0
    assert gen.variational.conv_mu.weight.grad.abs().sum() > 0
    assert gen.prior_learner.enc_conv1.weight.grad.abs().sum() > 0
    assert gen.image_generator.enc_conv1.weight.grad.abs().sum() > 0


def test_seeded_sampling():
    gen = _tiny(prob=True).eval()
    _, masked, mask = _inputs(b=3)
    with torch.no_grad():
        a = gen.forward_test(masked, mask, seed=7)
        b = gen.forward_test(masked, mask, seed=7)
        c = gen.forward_test(masked, mask, seed=8)
        assert torch.equal(a, b)
        assert not torch.allclose(a, c)
        # int seed s -> image i uses s + i; same result in a batch of one
        for i in range(3):
            single = gen.forward_test(
                masked[i:i + 1], mask[i:i + 1], seed=7 + i)
            assert torch.allclose(single[0], a[i], atol=1e-5, rtol=0)
        explicit = gen.forward_test(masked, mask, seed=[7, 8, 9])
        assert torch.equal(explicit, a)
        # K samples: (K, B, ...); sample 0 equals the K = 1 result
        many = gen.forward_test(masked, mask, num_samples=3, seed=7)
        assert many.shape == (3, 3, 3, 32, 32)
        assert torch.allclose(many[0], a, atol=1e-5, rtol=0)
        assert not torch.allclose(many[0], many[1])
        # the mean is deterministic and seed-independent
        m1 = gen.forward_test(masked, mask, sample='mean')
        m2 = gen.forward_test(masked, mask, sample='mean', seed=123)
        assert torch.equal(m1, m2)
        with pytest.raises(ValueError, match='sample'):
            gen.forward_test(masked, mask, sample='mode')
        with pytest.raises(ValueError, match='one seed per image'):
            gen.forward_test(masked, mask, seed=[1, 2])


def test_deterministic_forward_test_multiple_samples():
    gen = _tiny(prob=False).eval()
    _, masked, mask = _inputs()
    with torch.no_grad():
        one = gen.forward_test(masked, mask)
        many = gen.forward_test(masked, mask, num_samples=2)
    assert many.shape == (2, 2, 3, 32, 32)
    assert torch.equal(many[0], one) and torch.equal(many[1], one)


@pytest.mark.parametrize('num_scales', [1, 2])
def test_fewer_scales(num_scales):
    heads = [5, 5, 10][-num_scales:]
    gen = _tiny(prob=True, num_scales=num_scales, head_channels=heads)
    expected = {1: [32, 32, 32], 2: [16, 16, 32]}[num_scales]
    assert gen.image_generator.prior_channels == expected
    _, masked, mask = _inputs()
    res = gen.forward_train(masked, mask)
    assert len(res['priors']) == len(res['distill']) == num_scales
    assert res['priors'][-1].shape == (4, 32, 8, 8)
    assert res['out'].shape == (4, 3, 32, 32)


def test_concat_fusion_ablation():
    torch.manual_seed(0)
    gen = MODELS.build(
        dict(
            type='SPNGenerator',
            prior_learner=TINY_LEARNER,
            image_generator=dict(TINY_GEN, fusion='concat')))
    _, masked, mask = _inputs()
    out = gen.forward_train(masked, mask)['out']
    out.mean().backward()
    assert out.shape == (2, 3, 32, 32)
    assert gen.prior_learner.recon_blocks[0].conv1.weight.grad is not None


def test_extract_features():
    gen = _tiny(prob=True).eval()
    _, masked, mask = _inputs()
    with torch.no_grad():
        feats = gen.extract_features(masked, mask, seed=0)
        out = gen.forward_test(masked, mask, seed=0)
    assert torch.equal(feats['out'], out)
    assert feats['feat_enc'].shape == (2, 32, 8, 8)
    assert feats['feat_dec'].shape == (2, 32, 8, 8)
    assert feats['prior_enc'].shape == (2, 32, 8, 8)
    assert [p.shape[1] for p in feats['priors']] == [8, 16, 32]
    assert not torch.equal(feats['feat_enc'], feats['feat_dec'])


def test_config_errors():
    with pytest.raises(ValueError, match='variational_channels'):
        MODELS.build(
            dict(
                type='SPNGenerator',
                prior_learner=dict(TINY_LEARNER, variational_channels=3),
                image_generator=TINY_GEN,
                variational=TINY_VAR))
    with pytest.raises(ValueError, match='in_channels'):
        MODELS.build(
            dict(
                type='SPNGenerator',
                prior_learner=TINY_LEARNER,
                image_generator=TINY_GEN,
                variational=dict(TINY_VAR, in_channels=16)))
    with pytest.raises(ValueError, match='prior_channels'):
        MODELS.build(
            dict(
                type='SPNGenerator',
                prior_learner=TINY_LEARNER,
                image_generator=dict(TINY_GEN, prior_channels=[8, 8, 8])))
    gen = _tiny(prob=True)
    _, masked, mask = _inputs(size=48)
    with pytest.raises(ValueError, match='multiples of 32'):
        gen.forward_test(masked, mask)
    with pytest.raises(ValueError, match='mask'):
        gen.forward_test(torch.zeros(1, 3, 32, 32), torch.zeros(1, 3, 32, 32))
