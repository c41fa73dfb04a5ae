"""Tests of the official SPN checkpoint converter.

A synthetic official checkpoint is built from the official key/shape tables
(``tests/data/official_keys``), converted, loaded strictly into a
full-width SPNGenerator and compared with an independent functional
re-implementation of the official ``G_Net`` forward written against the
official key names.
"""
import functools
import os.path as osp
import re
from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F

from spn_mm.converters import (convert_official_state_dict,
                               official_generator_cfg, official_key_map)
from spn_mm.registry import MODELS
from spn_mm.utils import run_cli
from utils import REPO_ROOT, load_script

KEYS_DIR = osp.join(REPO_ROOT, 'tests', 'data', 'official_keys')
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'model_converters', 'spn_official_to_mmagic.py')
NUM_KEYS = {'det': 472, 'prob': 490}


def _official_shapes(variant):
    path = osp.join(KEYS_DIR, f'spn_{variant}_generator_keys.tsv')
    if not osp.isfile(path):
        raise FileNotFoundError(f'official key table missing: {path}')
    shapes = OrderedDict()
    with open(path) as f:
        for line in f:
            key, shape = line.rstrip('\n').split('\t')
            shapes[key] = tuple(int(d) for d in re.findall(r'\d+', shape))
    return shapes


def _synthetic_generator(variant, seed=0):
    """Random official generator tensors (no prefix), scaled by fan-in."""
    return OrderedDict(_cached_generator(variant, seed))


@functools.lru_cache(maxsize=2)
def _cached_generator(variant, seed):
    gen = torch.Generator().manual_seed(seed)
    sd = OrderedDict()
    for key, shape in _official_shapes(variant).items():
        t = torch.randn(shape, generator=gen)
        if len(shape) == 4:
            t = t / (shape[1] * shape[2] * shape[3])**0.5
        else:
            t = t * 0.1
        sd[key] = t
    return sd


def _synthetic_checkpoint(variant, seed=0):
    """An InpaintingModel-like checkpoint: G + D + teacher + loss buffers."""
    ckpt = OrderedDict((f'generator.module.{k}', v)
                       for k, v in _synthetic_generator(variant, seed).items())
    ckpt['discriminator.module.conv1.0.weight_orig'] = torch.randn(64, 3, 4, 4)
    ckpt['discriminator.module.conv5.0.weight_orig'] = torch.randn(
        1, 512, 4, 4)
    # det D_Net: `features` is the same Sequential as `conv1`
    ckpt['discriminator.module.features.0.weight_orig'] = ckpt[
        'discriminator.module.conv1.0.weight_orig']
    ckpt['tresnet_xL_hold.body.conv1.0.weight'] = torch.randn(76, 48, 3, 3)
    ckpt['adversarial_loss.real_label'] = torch.tensor(1.0)
    ckpt['adversarial_loss.fake_label'] = torch.tensor(0.0)
    if variant == 'prob':
        ckpt['vgg_loss.vgg.slice1.0.weight'] = torch.randn(64, 3, 3, 3)
    return ckpt


def _load_converted(state_dict, variant):
    """Load strictly into a full-width SPNGenerator built on meta."""
    with torch.device('meta'):
        model = MODELS.build(official_generator_cfg(variant))
    gen_sd = {
        k[len('generator.'):]: v
        for k, v in state_dict.items() if k.startswith('generator.')
    }
    target = model.state_dict()
    assert set(gen_sd) == set(target)
    for k, v in target.items():
        assert tuple(gen_sd[k].shape) == tuple(v.shape), k
    result = model.load_state_dict(gen_sd, strict=True, assign=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert all(p.device.type == 'cpu' for p in model.parameters())
    return model.eval()


# ---------------------------------------------------------------------- #
# functional re-implementation of the official G_Net (from the spec)
# ---------------------------------------------------------------------- #
class _OfficialG:

    def __init__(self, w, prob):
        self.w, self.prob = w, prob

    def conv(self, x, name, stride=1, pad=0, dil=1, reflect=0):
        if reflect:
            x = F.pad(x, [reflect] * 4, mode='reflect')
        return F.conv2d(x, self.w[f'{name}.weight'], self.w[f'{name}.bias'],
                        stride, pad, dil)

    def rn_b(self, x, name, mask):
        h, w = x.shape[-2:]
        m = F.interpolate(mask, size=(h, w), mode='nearest')

        def rn(region, msk):
            total = region.sum((2, 3))
            count = msk.sum((2, 3))
            count[count == 0] = 1
            mu = total / count
            filled = region + (1 - msk) * mu[:, :, None, None]
            scale = torch.sqrt(count / (h * w))[:, :, None, None]
            return F.instance_norm(filled) * scale

        r = rn(x * m, m) + rn(x * (1 - m), 1 - m)

        def v(k):
            return self.w[f'{name}.{k}'][None, :, None, None]

        return (r * m * (1 + v('foreground_gamma')) + v('foreground_beta') +
                r * (1 - m) * (1 + v('background_gamma')) +
                v('background_beta'))

    def spade(self, x, name, seg):
        actv = F.relu(self.conv(seg, f'{name}.mlp_shared.0', pad=1))
        gamma = self.conv(actv, f'{name}.mlp_gamma', pad=1)
        beta = self.conv(actv, f'{name}.mlp_beta', pad=1)
        return F.instance_norm(x) * (1 + gamma) + beta

    def resblock(self, x, name):
        y = F.relu(self.conv(x, f'{name}.conv_block.1', reflect=1))
        return x + self.conv(y, f'{name}.conv_block.4', reflect=1)

    def withshort(self, x, name):
        y = F.relu(self.conv(x, f'{name}.conv_block.1', reflect=1))
        y = self.conv(y, f'{name}.conv_block.4', reflect=1)
        return y + self.conv(x, f'{name}.shortcut.1', reflect=1)

    def spade_block(self, x, name, seg):
        y = F.relu(self.spade(x, f'{name}.conv_block.0', seg))
        y = self.conv(y, f'{name}.conv_block.3', dil=2, reflect=2)
        y = F.relu(self.spade(y, f'{name}.conv_block.4', seg))
        return x + self.conv(y, f'{name}.conv_block.7', reflect=1)

    def maskg(self, x, name, seg):
        y = F.leaky_relu(self.spade(x, f'{name}.conv_block.0', seg), 0.2)
        y = self.conv(y, f'{name}.conv_block.2', pad=1)
        y = F.leaky_relu(self.spade(y, f'{name}.conv_block.3', seg), 0.2)
        y = self.conv(y, f'{name}.conv_block.5', pad=1)
        s = self.conv(
            self.spade(x, f'{name}.SPADE_s', seg), f'{name}.conv_s', pad=1)
        return y + s

    def __call__(self, x, mask, masked_512, mask_512):
        """Official det / prob (z = mean) forward; values in [0, 1]."""
        x_in = x * (1 - mask) + mask
        f = x_in
        for i, stride in ((1, 1), (2, 2), (3, 2)):
            if i == 1:
                f = self.conv(f, 'encoder_conv1', reflect=3)
            else:
                f = self.conv(f, f'encoder_conv{i}', stride=2, pad=1)
            f = F.relu(self.rn_b(f, f'encoder_in{i}', mask))
        s = F.relu(
            self.conv(
                torch.cat([masked_512, mask_512], 1),
                'encoder_conv1_sm',
                reflect=3))
        x256 = F.relu(self.conv(s, 'encoder_conv2_sm', 2, 1))
        x128 = F.relu(self.conv(x256, 'encoder_conv3_sm', 2, 1))
        x_sm = F.relu(self.conv(x128, 'encoder_conv4_sm', 2, 1))
        s = self.conv(x_sm, 'encoder_sm_out', pad=1)
        feats = []
        for i in range(16):
            d = s
            for k in range(6):
                d = torch.cat([
                    d,
                    F.relu(self.conv(d, f'rdbs.{i}.layers.{k}.conv', pad=1))
                ], 1)
            s = self.conv(d, f'rdbs.{i}.lff') + s
            feats.append(s)
        x_sm = self.conv(
            self.conv(torch.cat(feats, 1), 'gff.0'), 'gff.1', pad=1) + x_sm
        if self.prob:
            h = x_sm
            for idx in (0, 2, 4):
                h = F.leaky_relu(self.conv(h, f'encoder_z.{idx}', 2, 1), 0.2)
            z = self.conv(h, 'mu')  # the mean of N(mu, softplus(sigma))
            for idx in (0, 3, 6):
                z = F.relu(
                    F.pixel_shuffle(
                        self.conv(z, f'decoder_z.{idx}', pad=1), 2))
            lay = self.withshort(torch.cat([x_sm, z], 1), 'feature_recon.0')
        else:
            lay = self.resblock(x_sm, 'feature_recon.0')
        for j in (1, 2, 3):
            lay = self.resblock(lay, f'feature_recon.{j}')
        up = F.relu(
            F.pixel_shuffle(
                self.conv(lay, 'feature_recon_decoder.0', pad=1), 2))
        lay128 = self.withshort(
            torch.cat([x128, up], 1), 'feature_recon_decoder.3')
        up = F.relu(
            F.pixel_shuffle(
                self.conv(lay128, 'feature_recon_decoder.4', pad=1), 2))
        lay256 = self.withshort(
            torch.cat([x256, up], 1), 'feature_recon_decoder.7')
        p64 = self.conv(lay, 'feature_mapping')
        p128 = self.conv(lay128, 'feature_mapping_128')
        p256 = self.conv(lay256, 'feature_mapping_256')
        for j in range(8):
            f = self.spade_block(f, f'middle.{j}', lay)
        f = self.maskg(F.interpolate(f, scale_factor=2), 'decoder.1', lay128)
        f = self.maskg(F.interpolate(f, scale_factor=2), 'decoder.3', lay256)
        out = self.conv(F.leaky_relu(f, 0.2), 'decoder.6', reflect=3)
        return (torch.tanh(out) + 1) / 2, [p256, p128, p64]


# ---------------------------------------------------------------------- #
# tests
# ---------------------------------------------------------------------- #
@pytest.mark.parametrize('variant', ['det', 'prob'])
def test_key_map_covers_official_table(variant):
    shapes = _official_shapes(variant)
    key_map = official_key_map(variant)
    assert len(shapes) == NUM_KEYS[variant]
    assert list(key_map) == list(shapes)  # same keys, registration order


@pytest.mark.parametrize('variant', ['det', 'prob'])
def test_convert_load_and_match_official_forward(variant):
    ckpt = _synthetic_checkpoint(variant)
    state_dict, meta = convert_official_state_dict(ckpt, variant=variant)
    assert meta['variant'] == variant
    assert meta['num_generator_tensors'] == NUM_KEYS[variant]
    assert meta['num_ignored_keys'] == len(ckpt) - NUM_KEYS[variant]
    assert len(state_dict) == NUM_KEYS[variant]
    assert all(k.startswith('generator.') for k in state_dict)
    # every official tensor lands, unchanged, at its mapped key
    for src, dst in official_key_map(variant).items():
        assert torch.equal(state_dict[f'generator.{dst}'],
                           ckpt[f'generator.module.{src}'])
    model = _load_converted(state_dict, variant)

    # same function as the official generator (32x32, full width)
    torch.manual_seed(0)
    gt01 = torch.rand(2, 3, 32, 32)
    mask = torch.zeros(2, 1, 32, 32)
    mask[0, :, 8:20, 6:26] = 1
    mask[1, :, 2:30, 16:30] = 1
    masked01 = gt01 * (1 - mask) + mask
    masked_512 = F.interpolate(masked01, size=64, mode='nearest')
    mask_512 = F.interpolate(mask, size=64, mode='nearest')
    ref = _OfficialG(
        {
            k[len('generator.module.'):]: v
            for k, v in ckpt.items() if k.startswith('generator.module.')
        },
        prob=variant == 'prob')
    with torch.no_grad():
        ref_out, ref_priors = ref(gt01, mask, masked_512, mask_512)
        masked = (gt01 * 2 - 1) * (1 - mask)  # mmagic convention
        feats = model.extract_features(masked, mask, sample='mean')
    assert torch.isfinite(feats['out']).all()
    assert ref_out.std() > 1e-3  # not saturated / degenerate
    assert torch.allclose((feats['out'] + 1) / 2, ref_out, atol=1e-4)
    for ours, theirs in zip(feats['distill'], ref_priors):
        assert ours.shape == theirs.shape
        assert torch.allclose(ours, theirs, atol=1e-4, rtol=1e-4)


def test_auto_variant_and_wrong_variant_refused():
    det = _synthetic_checkpoint('det')
    prob = _synthetic_checkpoint('prob')
    assert convert_official_state_dict(det)[1]['variant'] == 'det'
    assert convert_official_state_dict(prob)[1]['variant'] == 'prob'
    with pytest.raises(ValueError, match="'det' was requested.*encoder_z"):
        convert_official_state_dict(prob, variant='det')
    with pytest.raises(ValueError, match="'prob' was requested"):
        convert_official_state_dict(det, variant='prob')
    with pytest.raises(ValueError, match='variant'):
        convert_official_state_dict(det, variant='both')


@pytest.mark.parametrize('layout',
                         ['state_dict', 'model', 'no_prefix', 'module_prefix'])
def test_checkpoint_layouts(layout):
    ckpt = _synthetic_checkpoint('det')
    gen = _synthetic_generator('det')
    if layout in ('state_dict', 'model'):
        wrapped = {layout: ckpt, 'epoch': 3}
    elif layout == 'no_prefix':
        wrapped = dict(gen)
        wrapped['discriminator.module.conv1.0.weight_orig'] = torch.zeros(1)
        wrapped['tresnet_xL_hold.body.conv1.0.weight'] = torch.zeros(1)
    else:
        wrapped = {f'module.{k}': v for k, v in gen.items()}
    state_dict, meta = convert_official_state_dict(wrapped, variant='det')
    assert len(state_dict) == NUM_KEYS['det']
    assert torch.equal(state_dict['generator.image_generator.out_conv.bias'],
                       gen['decoder.6.bias'])


def test_incomplete_or_foreign_checkpoints_refused():
    ckpt = _synthetic_checkpoint('det')
    missing = OrderedDict(ckpt)
    del missing['generator.module.rdbs.3.lff.bias']
    with pytest.raises(ValueError, match='missing keys'):
        convert_official_state_dict(missing)
    extra = OrderedDict(ckpt)
    extra['generator.module.rdbs.16.lff.bias'] = torch.zeros(256)
    with pytest.raises(ValueError, match='unexpected keys'):
        convert_official_state_dict(extra)
    foreign = OrderedDict(ckpt)
    foreign['generator.module.new_head.weight'] = torch.zeros(1)
    with pytest.raises(ValueError, match='new_head'):
        convert_official_state_dict(foreign)
    bad_shape = OrderedDict(ckpt)
    bad_shape['generator.module.decoder.6.weight'] = torch.zeros(3, 64, 3, 3)
    with pytest.raises(ValueError, match='shape mismatch.*decoder.6.weight'):
        convert_official_state_dict(bad_shape)
    with pytest.raises(ValueError, match='no generator keys'):
        convert_official_state_dict({'foo.weight': torch.zeros(1)})


def test_keep_disc_and_non_default_middle_blocks():
    ckpt = _synthetic_checkpoint('det')
    state_dict, meta = convert_official_state_dict(ckpt, keep_disc=True)
    assert meta['num_discriminator_tensors'] == 2
    assert 'disc.conv1.0.weight_orig' in state_dict
    assert not any(k.startswith('disc.features') for k in state_dict)
    # an official G built with residual_blocks=4
    small = OrderedDict(
        (k, v) for k, v in ckpt.items()
        if not re.match(r'generator\.module\.middle\.[4-7]\.', k))
    state_dict, meta = convert_official_state_dict(small)
    assert meta['generator_cfg']['image_generator']['num_middle_blocks'] == 4
    with torch.device('meta'):
        model = MODELS.build(meta['generator_cfg'])
    model.load_state_dict(
        {
            k[len('generator.'):]: v
            for k, v in state_dict.items()
        },
        strict=True,
        assign=True)


def test_cli(tmp_path):
    cli = load_script(TOOL, 'spn_official_cli')
    src = tmp_path / 'spn_prob_official.pt'
    dst = tmp_path / 'spn_prob_mmagic.pth'
    torch.save(_synthetic_checkpoint('prob'), src)
    assert run_cli(cli.main,
                   [str(src), str(dst), '--variant', 'det']) == 1
    assert not dst.exists()
    assert cli.main([str(src), str(dst), '--variant', 'prob']) == 0
    out = torch.load(dst, map_location='cpu', weights_only=True)
    assert set(out) == {'state_dict', 'meta'}
    assert out['meta']['variant'] == 'prob'
    assert out['meta']['source_file'] == 'spn_prob_official.pt'
    model = _load_converted(out['state_dict'], 'prob')
    with torch.no_grad():
        res = model.forward_test(
            torch.zeros(1, 3, 32, 32), torch.ones(1, 1, 32, 32), seed=0)
    assert torch.isfinite(res).all()
    assert run_cli(cli.main, [str(tmp_path / 'missing.pt'), str(dst)]) == 1
