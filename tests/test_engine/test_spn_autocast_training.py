"""CPU mixed precision: SPNAutocastOptimWrapper and ``tools/train.py --amp``.

Independent references: ``torch.is_autocast_enabled('cpu')`` /
``torch.get_autocast_dtype('cpu')`` observed inside the teacher, the
generator, the discriminator and the VGG by forward hooks; weights compared
with their values before the step.
"""
import glob
import json
import math
import os.path as osp

import pytest
import torch
from mmagic.registry import MODELS
from mmengine.config import Config
from mmengine.optim import OptimWrapperDict, build_optim_wrapper
from utils import REPO_ROOT, run_tool

TESTS = osp.join(REPO_ROOT, 'tests')
ADAM = osp.join(REPO_ROOT, 'configs', '_base_', 'schedules', 'spn_adam.py')


def make_batch(batch: int = 2, size: int = 64) -> dict:
    from mmagic.structures import DataSample
    g = torch.Generator().manual_seed(0)
    samples, inputs = [], []
    for i in range(batch):
        gt = torch.rand(3, size, size, generator=g) * 255
        mask = torch.zeros(1, size, size)
        mask[:, size // 4 + i:size // 2, size // 4:size * 3 // 4] = 1
        samples.append(DataSample(gt_img=gt, mask=mask))
        inputs.append(gt * (1 - mask) + 127.5 * mask)
    return dict(inputs=inputs, data_samples=samples)


# 32 px for prob (its size divisor): bf16 convolutions of the random VGG are
# slow on CPUs without AVX-512-BF16/AMX
@pytest.mark.parametrize('name,size', [('spn_tiny_det.py', 64),
                                       ('spn_tiny_prob.py', 32)])
def test_cpu_bf16_train_step_under_one_autocast(name, size):
    from spn_mm.engine.optim import amp_optim_cfg
    cfg = Config.fromfile(osp.join(TESTS, 'configs', name))
    cfg.merge_from_dict(Config.fromfile(ADAM).to_dict())
    amp_optim_cfg(cfg, cuda=False)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    assert isinstance(optim, OptimWrapperDict)
    assert {type(w).__name__
            for w in optim.values()} == {'SPNAutocastOptimWrapper'}

    seen = {}

    def spy(name):

        def hook(module, args, out):
            seen.setdefault(name, set()).add(
                (torch.is_autocast_enabled('cpu'),
                 torch.get_autocast_dtype('cpu')))

        return hook

    parts = dict(
        teacher=model.teacher,
        generator=model.generator,
        disc=model.disc)
    if model.loss_percep is not None:
        parts['vgg'] = model.loss_percep
    for key, module in parts.items():
        module.register_forward_hook(spy(key))
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    logs = model.train_step(make_batch(size=size), optim)
    assert 'loss_prior' in logs
    for key in parts:
        assert seen[key] == {(True, torch.bfloat16)}, (key, seen[key])
    for key, value in logs.items():
        assert torch.isfinite(value).all(), key
    after = model.state_dict()
    for prefix in ('generator.', 'disc.'):
        keys = [k for k in before if k.startswith(prefix)
                and before[k].is_floating_point()]
        assert keys
        assert any(not torch.equal(before[k], after[k]) for k in keys)
        for k in keys:  # master weights stay fp32
            assert after[k].dtype == torch.float32, k
    assert not torch.is_autocast_enabled('cpu')  # context closed


def test_train_tool_amp_on_cpu_trains(tiny_data, tmp_path):
    if torch.cuda.is_available():
        pytest.skip('CPU behaviour of --amp (CUDA uses AmpOptimWrapper)')
    cfg = tmp_path / 'amp_tiny.py'
    data = osp.join(TESTS, 'configs', 'tiny_data.py')
    tiny = osp.join(TESTS, 'configs', 'spn_tiny_det.py')
    cfg.write_text(
        f'_base_ = [{tiny!r}, {data!r}, {ADAM!r}]\n'
        'train_dataloader = _base_.tiny_train_dataloader\n'
        "train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, "
        'val_interval=1000)\n'
        'default_hooks = dict(logger=dict(interval=1), '
        'checkpoint=dict(interval=1))\n')
    work = str(tmp_path / 'work')
    proc = run_tool('train.py', [
        str(cfg), '--amp', '--work-dir', work, '--cfg-options',
        f'train_dataloader.dataset.data_root={tiny_data}'
    ])
    assert 'bfloat16 autocast on CPU' in proc.stdout + proc.stderr
    w1 = torch.load(osp.join(work, 'iter_1.pth'), weights_only=False)
    w2 = torch.load(osp.join(work, 'iter_2.pth'), weights_only=False)
    gen = [k for k in w1['state_dict'] if k.startswith('generator.')]
    assert any(not torch.equal(w1['state_dict'][k], w2['state_dict'][k])
               for k in gen)
    for k in gen:
        assert torch.isfinite(w2['state_dict'][k]).all(), k
    scalars = []
    for path in glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json')):
        with open(path) as f:
            scalars += [json.loads(line) for line in f if line.strip()]
    losses = [v for row in scalars for k, v in row.items()
              if k.startswith('loss')]
    assert losses and all(math.isfinite(v) for v in losses)
