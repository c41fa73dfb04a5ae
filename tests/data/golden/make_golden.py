"""Write the golden generator outputs of the five paper configs.

Run once, before a refactor, from the repo root:
    .venv/bin/python tests/data/golden/make_golden.py
tests/test_models/test_editors/test_spn/test_golden_outputs.py then checks
that the generators still compute exactly these outputs.
"""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import spn_mm  # noqa: F401
from spn_mm.registry import MODELS

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(osp.dirname(HERE)))
CONFIGS = ['spn_places2.py', 'spn_celeba.py', 'spn_paris.py',
           'spn_celebahq_prob.py', 'spn_paris_prob.py']


def golden_input(size: int = 64):
    """The fixed masked image (B=2, [-1, 1]) and mask (1 = hole)."""
    g = torch.Generator().manual_seed(2024)
    img = torch.rand(2, 3, size, size, generator=g) * 2 - 1
    mask = torch.zeros(2, 1, size, size)
    mask[0, :, 16:40, 8:48] = 1
    mask[1, :, 4:60, 30:44] = 1
    return img * (1 - mask), mask


def build_generator(name: str) -> torch.nn.Module:
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    torch.manual_seed(0)
    gen = MODELS.build(cfg.model.encdec)
    return gen.eval()


def main() -> None:
    init_default_scope('mmagic')
    torch.set_num_threads(1)
    masked, mask = golden_input()
    for name in CONFIGS:
        gen = build_generator(name)
        with torch.no_grad():
            out = gen(masked, mask, mode='test', num_samples=2, seed=7)
        torch.save(out, osp.join(HERE, name.replace('.py', '.pt')))
        print(name, tuple(out.shape))


if __name__ == '__main__':
    main()
