import pytest
import torch
import torch.nn.functional as F

from spn_mm.models.editors.spn import SemanticPriorLearner
from spn_mm.models.editors.spn.spn_blocks import (SPNResBlock,
                                                  SPNShortcutResBlock)
from spn_mm.registry import MODELS

TINY = dict(
    base_channels=8,
    growth_channels=4,
    num_rdbs=2,
    num_rdb_layers=2,
    num_recon_blocks=2)


def _numel(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_full_width_param_counts():
    with torch.device('meta'):
        det = MODELS.build(dict(type='SemanticPriorLearner'))
        prob = SemanticPriorLearner(variational_channels=256)
    assert _numel(det) == 22_618_672
    assert _numel(det.heads) == 53_808
    assert [h.out_channels for h in det.heads] == [76, 76, 152]
    assert _numel(det.rdbs) == 11_131_904
    assert _numel(det.global_fusion) == 1_638_912
    assert _numel(det.recon_blocks) == 4_720_640
    assert _numel(det.up_convs) + _numel(det.up_blocks) == 2_766_144
    # with the variational plug-in feature_recon.0 takes 512 channels
    assert isinstance(prob.recon_blocks[0], SPNShortcutResBlock)
    assert _numel(prob.recon_blocks) == 6_490_368
    assert _numel(prob) == 22_618_672 + 6_490_368 - 4_720_640


@pytest.mark.parametrize('num_scales', [1, 2, 3])
def test_forward_shapes(num_scales):
    torch.manual_seed(0)
    heads = [5, 6, 7][-num_scales:]
    learner = SemanticPriorLearner(
        num_scales=num_scales, head_channels=heads, **TINY)
    x = torch.rand(2, 4, 64, 64)  # 2x view of a 32x32 image
    priors, distill = learner(x)
    sizes = [32, 16, 8][-num_scales:]
    chans = [8, 16, 32][-num_scales:]
    assert [tuple(p.shape) for p in priors] == [(2, c, s, s)
                                                for c, s in zip(chans, sizes)]
    assert [tuple(d.shape) for d in distill] == [(2, c, s, s)
                                                 for c, s in zip(heads, sizes)]
    assert learner.prior_channels == chans
    assert len(learner.up_convs) == num_scales - 1
    expected_gen = {1: [32, 32, 32], 2: [16, 16, 32], 3: [8, 16, 32]}
    assert learner.generator_prior_channels == expected_gen[num_scales]


def test_gff_is_added_to_encoder_output():
    torch.manual_seed(0)
    learner = SemanticPriorLearner(**TINY)
    with torch.no_grad():
        last = learner.global_fusion[1]
        last.weight.zero_()
        last.bias.zero_()
    x = torch.rand(1, 4, 64, 64)
    fused, skips = learner.encode(x)
    feat = F.relu(learner.enc_conv1(x))
    s256 = F.relu(learner.enc_conv2(feat))
    s128 = F.relu(learner.enc_conv3(s256))
    x_sm = F.relu(learner.enc_conv4(s128))
    assert torch.equal(fused, x_sm)  # S_enc = x_sm + gff(...) with gff = 0
    assert torch.equal(skips[0], s256) and torch.equal(skips[1], s128)
    assert learner.enc_conv1.padding_mode == 'reflect'
    assert learner.enc_conv1.kernel_size == (7, 7)


def test_variational_hook():
    torch.manual_seed(0)
    learner = SemanticPriorLearner(variational_channels=6, **TINY)
    assert isinstance(learner.recon_blocks[0], SPNShortcutResBlock)
    assert learner.recon_blocks[0].conv1.in_channels == 32 + 6
    assert isinstance(learner.recon_blocks[1], SPNResBlock)
    fused, skips = learner.encode(torch.rand(2, 4, 64, 64))
    priors, distill = learner.decode(fused, skips, torch.rand(2, 6, 8, 8))
    assert priors[-1].shape == (2, 32, 8, 8)
    with pytest.raises(ValueError, match='extra'):
        learner.decode(fused, skips)
    det = SemanticPriorLearner(**TINY)
    fused, skips = det.encode(torch.rand(1, 4, 64, 64))
    with pytest.raises(ValueError, match='extra'):
        det.decode(fused, skips, torch.rand(1, 6, 8, 8))


def test_gradients_reach_all_parameters():
    torch.manual_seed(0)
    learner = SemanticPriorLearner(**TINY)
    priors, distill = learner(torch.rand(1, 4, 32, 32))
    (sum(p.mean() for p in priors) + sum(d.mean() for d in distill)).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in learner.parameters())


def test_bad_arguments():
    with pytest.raises(ValueError, match='num_scales'):
        SemanticPriorLearner(num_scales=4, **TINY)
    with pytest.raises(ValueError, match='head_channels'):
        SemanticPriorLearner(num_scales=2, head_channels=[76, 76, 152], **TINY)
    learner = SemanticPriorLearner(**TINY)
    with pytest.raises(ValueError, match='2x masked image'):
        learner(torch.rand(1, 3, 64, 64))
    with pytest.raises(ValueError, match='multiples of 8'):
        learner(torch.rand(1, 4, 60, 60))
