"""Inference precision (fp32 / bf16 / fp16) of SPNInpainter, tools/inpaint.py
and SPNInpaintor's ``test_cfg``.

References: the fp32 NCHW reference path (``precision='fp32'``,
``channels_last=False``) and the PSNR formula written here.
"""

import numpy as np
import pytest
import torch
from PIL import Image

from spn_mm.apis import SPNInpainter
from test_apis.spn_api_fixtures import (TINY_DET, TINY_PROB,
                                        build_training_model,
                                        make_tiny_checkpoint, photo,
                                        rect_mask)
from utils import load_script


def hole_psnr(a: np.ndarray, b: np.ndarray, holes: np.ndarray) -> float:
    """PSNR (dB) of two uint8 images over the hole pixels only:
    ``10 * log10(255^2 / mean((a - b)^2 over holes and channels))``."""
    diff = a[holes].astype(np.float64) - b[holes].astype(np.float64)
    mse = float(np.mean(diff**2))
    return float('inf') if mse == 0 else 10 * np.log10(255.**2 / mse)


@pytest.fixture(scope='module')
def ckpts(tmp_path_factory):
    root = tmp_path_factory.mktemp('precision_ckpt')
    return dict(
        det=make_tiny_checkpoint(str(root / 'det.pth'), 'det'),
        prob=make_tiny_checkpoint(str(root / 'prob.pth'), 'prob'))


def test_hole_psnr_formula():
    a = np.zeros((4, 4, 3), np.uint8)
    b = a.copy()
    holes = np.zeros((4, 4), bool)
    holes[:2] = True
    b[0, 0, 0] = 255  # 1 of 24 hole values off by 255; outside ignored
    b[3, 3] = 255
    assert hole_psnr(a, b, holes) == pytest.approx(10 * np.log10(24))


def test_fp16_on_cpu_and_unknown_precision_fail_clearly(ckpts):
    with pytest.raises(ValueError, match=r"precision='fp16' needs a CUDA"):
        SPNInpainter(TINY_DET, ckpts['det'], precision='fp16')
    with pytest.raises(ValueError, match='precision must be one of'):
        SPNInpainter(TINY_DET, ckpts['det'], precision='fp64')


@pytest.mark.parametrize('variant', ['det', 'prob'])
def test_fp32_channels_last_equals_reference(ckpts, variant):
    cfg = TINY_DET if variant == 'det' else TINY_PROB
    img, mask = photo(64, 96), rect_mask(64, 96)
    ref = SPNInpainter(cfg, ckpts[variant], channels_last=False)
    fast = SPNInpainter(cfg, ckpts[variant], channels_last=True)
    assert ref.generator.state_dict().keys() == \
        fast.generator.state_dict().keys()
    a = ref.inpaint(img, mask, seed=3)
    b = fast.inpaint(img, mask, seed=3)
    # composites are uint8: allow 1 level where fp32 rounding differs
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1
    masked, mask = ref.to_tensors([ref.prepare(img, mask)[2]])
    with torch.no_grad():
        out_ref = ref.generator.forward_test(masked, mask, seed=3)
        out_cl = fast.generator.forward_test(
            masked.contiguous(memory_format=torch.channels_last), mask,
            seed=3)
    assert (out_ref - out_cl).abs().max().item() <= 1e-5


@pytest.mark.parametrize('variant', ['det', 'prob'])
def test_bf16_close_to_fp32_on_holes(ckpts, variant):
    cfg = TINY_DET if variant == 'det' else TINY_PROB
    img, mask = photo(64, 64, 'astronaut'), rect_mask(64, 64)
    holes = mask > 0
    ref = SPNInpainter(cfg, ckpts[variant]).inpaint(img, mask, seed=1)
    bf16 = SPNInpainter(cfg, ckpts[variant], precision='bf16')
    assert bf16.channels_last  # the default for bf16
    out = bf16.inpaint(img, mask, seed=1)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out[~holes], img[~holes])
    # random tiny weights; a trained demo model: benchmarks/README.md
    assert hole_psnr(out, ref, holes) >= 35.


def test_inpaint_tool_precision(ckpts, tmp_path, capsys):
    tool = load_script('tools/inpaint.py', 'spn_inpaint_prec')
    img, mask = photo(64, 64), rect_mask(64, 64)
    holes = mask > 0
    Image.fromarray(img).save(tmp_path / 'a.png')
    Image.fromarray(mask).save(tmp_path / 'm.png')
    args = [TINY_DET, ckpts['det'], '--image', str(tmp_path / 'a.png'),
            '--mask', str(tmp_path / 'm.png')]
    assert tool.main(args + ['--precision', 'fp16', '--out',
                             str(tmp_path / 'x.png')]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "precision='fp16' needs a CUDA" in err[0]
    assert tool.main(args + ['--precision', 'bf16', '--out',
                             str(tmp_path / 'b.png')]) == 0
    ref = SPNInpainter(TINY_DET, ckpts['det']).inpaint(img, mask)
    out = np.asarray(Image.open(tmp_path / 'b.png'))
    assert hole_psnr(out, ref, holes) >= 35.


def test_test_cfg_precision_in_inpaintor():
    """tools/test.py path: ``model.test_cfg.precision`` in the config."""
    from mmagic.structures import DataSample
    model = build_training_model(TINY_DET).eval()
    g = torch.Generator().manual_seed(0)
    gt = torch.rand(2, 3, 64, 64, generator=g) * 2 - 1
    mask = torch.zeros(2, 1, 64, 64)
    mask[..., 16:40, 20:48] = 1
    samples = DataSample(mask=mask)
    with torch.no_grad():
        ref, _ = model.forward_tensor(gt * (1 - mask), samples)
        model.test_cfg.update(precision='bf16')
        out, comp = model.forward_tensor(gt * (1 - mask), samples)
    assert out.dtype == comp.dtype == torch.float32
    mse = ((out - ref)**2 * mask).sum() / (mask.sum() * 3)
    # [-1, 1] images: peak-to-peak 2
    assert 10 * torch.log10(4 / mse) >= 35.
    with pytest.raises(ValueError, match="needs a CUDA"):
        model.test_cfg.update(precision='fp16')
        model.forward_tensor(gt * (1 - mask), samples)
