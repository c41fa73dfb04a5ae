"""mmagic's GANLoss reproduces the official SPN adversarial losses."""
import torch
import torch.nn.functional as F

from spn_mm.models.archs import SPNPatchDiscriminator
from spn_mm.registry import MODELS


def _logits():
    g = torch.Generator().manual_seed(0)
    return (torch.randn(2, 1, 6, 6, generator=g) * 3,
            torch.randn(2, 1, 6, 6, generator=g) * 3)


def test_vanilla_on_logits_equals_official_nsgan_bce_on_sigmoid():
    real, fake = _logits()
    gan = MODELS.build(dict(type='GANLoss', gan_type='vanilla'))
    p_real, p_fake = torch.sigmoid(real), torch.sigmoid(fake)
    ones, zeros = torch.ones_like(real), torch.zeros_like(real)
    # official D loss: 1/2 [BCE(D(I), 1) + BCE(D(fake), 0)]
    official_d = 0.5 * (
        F.binary_cross_entropy(p_real, ones) +
        F.binary_cross_entropy(p_fake, zeros))
    ours_d = 0.5 * (
        gan(real, True, is_disc=True) + gan(fake, False, is_disc=True))
    assert torch.allclose(ours_d, official_d, rtol=1e-5)
    # official G loss: BCE(D(fake), 1), gan_weight 1
    official_g = F.binary_cross_entropy(p_fake, ones)
    assert torch.allclose(
        gan(fake, True, is_disc=False), official_g, rtol=1e-5)


def test_hinge_equals_official_hinge():
    real, fake = _logits()
    gan = MODELS.build(dict(type='GANLoss', gan_type='hinge'))
    official_d = 0.5 * (
        torch.relu(1 - real).mean() + torch.relu(1 + fake).mean())
    ours_d = 0.5 * (
        gan(real, True, is_disc=True) + gan(fake, False, is_disc=True))
    assert torch.allclose(ours_d, official_d)
    assert torch.allclose(gan(fake, True, is_disc=False), -fake.mean())
    # loss_weight applies to the generator term only
    gan2 = MODELS.build(dict(type='GANLoss', gan_type='hinge', loss_weight=2.))
    assert torch.allclose(gan2(fake, True, is_disc=False), -2 * fake.mean())
    assert torch.allclose(
        gan2(real, True, is_disc=True),
        torch.relu(1 - real).mean())


def test_patch_disc_sigmoid_flag_matches_logits():
    torch.manual_seed(0)
    d_logit = SPNPatchDiscriminator(use_sigmoid=False, base_channels=8)
    d_prob = SPNPatchDiscriminator(use_sigmoid=True, base_channels=8)
    d_prob.load_state_dict(d_logit.state_dict())
    d_logit.eval()
    d_prob.eval()
    x = torch.randn(1, 3, 32, 32)
    logits, _ = d_logit(x)
    probs, _ = d_prob(x)
    assert torch.allclose(probs, torch.sigmoid(logits), atol=1e-6)
