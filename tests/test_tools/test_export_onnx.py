"""ONNX export of tiny det/prob SPN generators + onnxruntime parity.

onnx and onnxruntime are test requirements: these tests never skip.
"""
import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from spn_mm.apis import init_spn_model
from spn_mm.deployment import (check_onnx_parity, example_inputs, export_onnx,
                               latent_shape)
from test_apis.spn_api_fixtures import TINY, make_tiny_checkpoint
from utils import run_tool


@pytest.fixture(scope='module')
def ckpts(tmp_path_factory):
    root = tmp_path_factory.mktemp('onnx_ckpt')
    return {
        v: make_tiny_checkpoint(str(root / f'{v}.pth'), v, seed=2)
        for v in ('det', 'prob')
    }


@pytest.mark.parametrize('variant,shape', [('det', (36, 52)),
                                           ('prob', (64, 96))])
def test_export_and_parity(tmp_path, ckpts, variant, shape):
    model = init_spn_model(TINY[variant], ckpts[variant])
    gen = model.generator
    path = str(tmp_path / f'{variant}.onnx')
    names = export_onnx(gen, path, shape=shape, batch=1)
    onnx.checker.check_model(onnx.load(path))
    expected = ['image', 'mask'] + (['noise'] if variant == 'prob' else [])
    assert names == expected
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    assert [i.name for i in sess.get_inputs()] == expected
    assert sess.get_inputs()[0].shape[0] == 'batch'  # dynamic batch
    # batch 3 through a graph traced with batch 1
    diffs = check_onnx_parity(gen, path, shape=shape, batch=3, seed=4)
    print(variant, diffs)
    assert max(diffs.values()) < 1e-4


def test_prob_noise_semantics(tmp_path, ckpts):
    model = init_spn_model(TINY['prob'], ckpts['prob'])
    gen = model.generator
    path = str(tmp_path / 'prob.onnx')
    export_onnx(gen, path, shape=(32, 64))
    assert latent_shape(gen, 32, 64) == (8, 1, 2)
    inputs = example_inputs(gen, batch=2, shape=(32, 64), seed=0)
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    feed = {k: v.numpy() for k, v in inputs.items()}
    feed['noise'] = np.zeros_like(feed['noise'])
    raw, comp = sess.run(None, feed)
    mask = inputs['mask']
    with torch.no_grad():
        mean = gen.forward_test(
            inputs['image'] * (1 - mask), mask, sample='mean')
    assert np.abs(raw - mean.numpy()).max() < 1e-4  # noise 0 = mean sample
    # composite keeps the known pixels of the input
    known = np.broadcast_to(mask.numpy() == 0, comp.shape)
    np.testing.assert_allclose(
        comp[known], inputs['image'].numpy()[known], atol=1e-6)
    feed['noise'] = np.ones_like(feed['noise'])
    raw2, _ = sess.run(None, feed)
    assert np.abs(raw2 - raw).max() > 1e-3  # noise changes the result


def test_bad_shape(tmp_path, ckpts):
    model = init_spn_model(TINY['prob'], ckpts['prob'])
    with pytest.raises(ValueError, match='multiple of 32'):
        export_onnx(model.generator, str(tmp_path / 'x.onnx'), (48, 64))


def test_cli(tmp_path, ckpts):
    out = str(tmp_path / 'cli.onnx')
    proc = run_tool(
        'deployment/export_onnx.py',
        [TINY['det'], ckpts['det'], '--out', out, '--shape', '32', '48'])
    assert 'parity OK' in proc.stdout
    diff = float(proc.stdout.split('max_abs_diff_raw: ')[1].split()[0])
    assert diff < 1e-4
