"""Shared helpers of the config tests: listing, tiny-width copies, batches."""
import copy
import glob
import os.path as osp
from typing import Dict, List

import pytest
import torch
from mmagic.registry import MODELS
from mmagic.structures import DataSample
from mmengine.config import Config
from mmengine.optim import OptimWrapper, OptimWrapperDict
from utils import REPO_ROOT

import spn_mm.models.editors.spn_mixing  # noqa: F401  (registers mixing)

CONFIG_DIR = osp.join(REPO_ROOT, 'configs')

PAPER_CONFIGS = [
    'spn_places2.py', 'spn_celeba.py', 'spn_paris.py', 'spn_celebahq_prob.py',
    'spn_paris_prob.py'
]


@pytest.fixture(autouse=True, scope='module')
def torch_single_thread():
    """Run these (tiny, latency-bound) models on one intra-op thread.

    On a 2-core machine shared with other jobs, 2 OpenMP threads per
    process can slow tiny forward/backward passes down by 10x or more.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def config_names(sub: str = '') -> List[str]:
    """Config files (relative to configs/) of one folder, sorted."""
    pattern = osp.join(CONFIG_DIR, sub, '*.py')
    return sorted(osp.relpath(p, CONFIG_DIR) for p in glob.glob(pattern))


def flatten(d: dict, prefix: str = '') -> Dict:
    """Nested dict -> ``{'a.b.c': value}``."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f'{prefix}{k}.'))
        else:
            out[f'{prefix}{k}'] = v
    return out


def load(name: str) -> Config:
    """Load ``configs/<name>``."""
    return Config.fromfile(osp.join(CONFIG_DIR, name))


# Reduced widths (the structure of each config is kept: scales, number of
# middle blocks, fusion, teacher type, variational prior, discriminator).
TINY_LEARNER = dict(
    base_channels=8,
    growth_channels=8,
    num_rdbs=2,
    num_rdb_layers=2,
    num_recon_blocks=1)
TINY_IMAGE_GENERATOR = dict(base_channels=8, spade_hidden_channels=8)
TINY_VARIATIONAL = dict(
    in_channels=32, mid_channels=16, latent_channels=8, out_channels=32)
TINY_AOT_HOST = dict(
    encoder=dict(mid_channels=8, out_channels=16),
    decoder=dict(in_channels=16, mid_channels=8),
    dilation_neck=dict(in_channels=16, num_aotblock=1))
TINY_DISC = {
    'SPNPatchDiscriminator': dict(base_channels=8),
    'SPNProbDiscriminator': dict(base_channels=8),
    'SoftMaskPatchDiscriminator': dict(base_channels=8, num_conv=2),
}


def tiny_options(cfg: Config) -> Dict:
    """``--cfg-options``-style overrides giving a reduced-width copy.

    Teachers keep their architecture but never load weights (checkpoint
    None, i.e. random init); an SPN-prior teacher gets the tiny learner, so
    the student's head widths follow its prior channels.
    """
    model = cfg.model
    opts = {}
    enc = model.encdec
    learner_key = 'model.encdec.prior_learner'
    if enc.type == 'SPNGenerator':
        for k, v in TINY_IMAGE_GENERATOR.items():
            opts[f'model.encdec.image_generator.{k}'] = v
        if enc.get('variational') is not None:
            for k, v in TINY_VARIATIONAL.items():
                opts[f'model.encdec.variational.{k}'] = v
    elif enc.type == 'PriorGuidedEncDec':
        for part, values in TINY_AOT_HOST.items():
            for k, v in values.items():
                opts[f'model.encdec.host.{part}.{k}'] = v
        opts['model.encdec.fuse_channels'] = 16
    else:
        raise AssertionError(f'unknown generator {enc.type}')
    for k, v in TINY_LEARNER.items():
        opts[f'{learner_key}.{k}'] = v
    disc = model.get('disc')
    if disc is not None:
        for k, v in TINY_DISC[disc.type].items():
            opts[f'model.disc.{k}'] = v
    teacher = model.get('teacher')
    if teacher is not None:
        if 'checkpoint' in teacher:
            opts['model.teacher.checkpoint'] = None
        if teacher.type == 'SPNPriorTeacher':
            for k, v in TINY_LEARNER.items():
                opts[f'model.teacher.learner.{k}'] = v
            b = TINY_LEARNER['base_channels']
            n = enc.prior_learner.get('num_scales', 3)
            opts[f'{learner_key}.head_channels'] = [b, 2 * b, 4 * b][-n:]
    if model.get('vgg') is not None:
        opts['model.vgg.vgg_path'] = None
        opts['model.vgg.allow_random'] = True
    return opts


def tiny_cfg(name: str) -> Config:
    """A reduced-width copy of ``configs/<name>`` (Config merge)."""
    cfg = load(name)
    cfg.merge_from_dict(tiny_options(cfg))
    return cfg


def build_model(model_cfg, init: bool = True) -> torch.nn.Module:
    """Build a model config (seeded); ``init`` runs ``init_weights``."""
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(model_cfg))
    if init:
        model.init_weights()
    return model


def generator_params(model: torch.nn.Module) -> int:
    """Parameters of ``model.generator`` (learner + heads + image G)."""
    return sum(p.numel() for p in model.generator.parameters())


def simple_optims(model: torch.nn.Module,
                  lr: float = 1e-3) -> OptimWrapperDict:
    """Adam wrappers for the generator and (if any) the discriminator."""
    wrappers = dict(
        generator=OptimWrapper(
            torch.optim.Adam(
                model.generator.parameters(), lr=lr, betas=(0.0, 0.9))))
    if getattr(model, 'disc', None) is not None:
        wrappers['disc'] = OptimWrapper(
            torch.optim.Adam(model.disc.parameters(), lr=lr, betas=(0.0, 0.9)))
    return OptimWrapperDict(**wrappers)


def make_batch(batch: int = 2, size: int = 64, seed: int = 0) -> dict:
    """A dataloader-style batch: 0-255 RGB images with a rectangular hole."""
    g = torch.Generator().manual_seed(seed)
    samples, inputs = [], []
    for i in range(batch):
        gt = torch.rand(3, size, size, generator=g) * 255
        mask = torch.zeros(1, size, size)
        mask[:, size // 4 + 4 * i:size * 5 // 8, size // 5:size * 2 // 3] = 1
        ds = DataSample(gt_img=gt, mask=mask)
        ds.set_metainfo(dict(sample_idx=i))
        samples.append(ds)
        inputs.append(gt * (1 - mask))
    return dict(inputs=inputs, data_samples=samples)


def teacher_tensors(teacher) -> Dict[str, torch.Tensor]:
    """Copies of a teacher's parameters and buffers (empty if None)."""
    if teacher is None:
        return {}
    tensors = dict(teacher.named_parameters())
    tensors.update(dict(teacher.named_buffers()))
    return {k: v.detach().clone() for k, v in tensors.items()}


def expected_log_keys(model_cfg) -> set:
    """Loss names a train step of ``model_cfg`` must log."""
    if model_cfg.type == 'PriorGuidedAOTInpaintor':
        keys = {'loss_g', 'loss_l1_valid', 'loss_g_fake', 'disc_losses'}
        return keys | ({'loss_prior'}
                       if model_cfg.get('loss_prior') else set())
    keys = {'loss_g'}
    names = dict(
        loss_rec='loss_rec',
        loss_prior='loss_prior',
        loss_kl='loss_kl',
        loss_fm='loss_fm',
        loss_percep='loss_percep',
        loss_diversity='loss_div')
    for cfg_key, log_key in names.items():
        if model_cfg.get(cfg_key) is not None:
            keys.add(log_key)
    if model_cfg.get('disc') is not None:
        keys |= {'loss_d', 'loss_g_adv'}
    return keys


def check_tiny_train_and_test_step(name: str) -> None:
    """A reduced-width copy of ``configs/<name>`` trains and tests at 64px.

    Checks: every configured loss is logged and finite, generator and
    discriminator weights move (where there is one), the teacher does not, and ``test_step``
    returns composited predictions of the configured number of samples.
    """
    cfg = tiny_cfg(name)
    model = build_model(cfg.model)
    teacher = getattr(model, 'teacher', None)
    t0 = teacher_tensors(teacher)
    g0 = {k: v.clone() for k, v in model.generator.state_dict().items()}
    disc = getattr(model, 'disc', None)  # configs/spn_demo.py has none
    d0 = {} if disc is None else {
        k: v.clone()
        for k, v in disc.state_dict().items()
    }
    logs = model.train_step(make_batch(), simple_optims(model))
    missing = expected_log_keys(cfg.model) - set(logs)
    assert not missing, (name, missing, sorted(logs))
    for key, value in logs.items():
        assert torch.isfinite(torch.as_tensor(value)).all(), (name, key)
    if cfg.model.get('loss_prior') is None:
        assert 'loss_prior' not in logs
    moved = lambda a, b: any(  # noqa: E731
        not torch.equal(a[k], b[k]) for k in a)
    assert moved(g0, model.generator.state_dict()), name
    if disc is not None:
        assert moved(d0, disc.state_dict()), name
    else:
        assert not any(k.startswith('loss_d') for k in logs), sorted(logs)
    if teacher is not None:
        assert all(not p.requires_grad for p in teacher.parameters())
        for k, v in teacher_tensors(teacher).items():
            assert torch.equal(v, t0[k]), (name, k)

    batch = make_batch(seed=1)
    with torch.no_grad():
        out = model.test_step(batch)
    k = int((cfg.model.get('test_cfg') or {}).get('num_samples', 1))
    assert len(out) == 2
    for sample, ds in zip(out, batch['data_samples']):
        pred = sample.output.pred_img
        assert pred.shape == ((3, 64, 64) if k == 1 else (k, 3, 64, 64))
        valid = (1 - ds.mask).bool().expand(3, -1, -1)
        for p in (pred if k > 1 else pred[None]):
            # known pixels are pasted back (8-bit inputs)
            assert torch.allclose(p[valid], ds.gt_img[valid], atol=1e-3)
