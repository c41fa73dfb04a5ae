"""CPU mixed precision: SPNAutocastOptimWrapper (``tools/train.py --amp`` on
CPU: tests/test_benchmarks/test_run_gpu_dry_run.py).

Independent references: ``torch.is_autocast_enabled('cpu')`` /
``torch.get_autocast_dtype('cpu')`` observed inside the teacher, the
generator, the discriminator and the VGG by forward hooks; weights compared
with their values before the step.
"""
import os.path as osp

import pytest
import torch
from mmagic.registry import MODELS
from mmengine.config import Config
from mmengine.optim import OptimWrapperDict, build_optim_wrapper
from utils import REPO_ROOT

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
