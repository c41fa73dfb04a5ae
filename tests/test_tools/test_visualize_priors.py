"""tools/visualize_priors.py and the figure builder behind it."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image

from spn_mm.utils import run_cli
from spn_mm.visualization.prior_figure import compose_figure, prior_figure_rows
from test_apis.spn_api_fixtures import (TINY_DET, TINY_PROB,
                                        make_tiny_checkpoint, photo, rect_mask)
from utils import load_script, run_tool


TOOL = load_script('tools/visualize_priors.py', 'spn_vis_tool')


@pytest.fixture(scope='module')
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp('vis')
    Image.fromarray(photo(67, 93)).save(root / 'img.png')
    Image.fromarray(rect_mask(67, 93)).save(root / 'mask.png')
    return dict(
        root=root,
        image=str(root / 'img.png'),
        mask=str(root / 'mask.png'),
        det=make_tiny_checkpoint(str(root / 'det.pth'), 'det'),
        prob=make_tiny_checkpoint(str(root / 'prob.pth'), 'prob'))


def _regions(h, w, corner=False):
    """Label map with 4 regions drawn on an (8, 12) grid, nearest-up-sampled
    to (h, w) so that every scale shows exactly the same partition.
    ``corner`` moves the top-left cell to the right band, which changes the
    raster-order (canonical) numbering of every region."""
    lab = np.zeros((8, 12), int)
    lab[:, 4:8] = 1
    lab[:, 8:] = 2
    lab[2:6, 3:9] = 3
    if corner:
        lab[0, 0] = 2
    return np.kron(lab, np.ones((h // 8, w // 12), int))


def _feat(lab, channels, seed):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 5, size=(lab.max() + 1, channels))
    feat = centres[lab] + rng.normal(0, 0.01, lab.shape + (channels, ))
    return torch.from_numpy(feat.transpose(2, 0, 1)[None].astype(np.float32))


def test_colours_consistent_within_figure():
    """Maps with the same partition get the same colours at every scale,
    in the teacher row and for F_enc/F_dec, whatever their channels."""
    h, w = 32, 48
    sizes = [(h, w), (h // 2, w // 2), (h // 4, w // 4)]
    priors = [
        _feat(_regions(*s), c, i)
        for i, (s, c) in enumerate(zip(sizes, [8, 16, 32]))
    ]
    teacher = [
        _feat(_regions(*s, corner=i == 0), c, 10 + i)
        for i, (s, c) in enumerate(zip(sizes, [3, 5, 7]))
    ]
    feats = dict(
        image=np.zeros((h, w, 3), np.uint8),
        mask=np.zeros((h, w), bool),
        valid=(h, w),
        priors=[priors, [_feat(_regions(h, w), 8, 99)] + priors[1:]],
        feat_enc=_feat(_regions(*sizes[2]), 32, 20),
        feat_dec=[_feat(_regions(*sizes[2]), 32, 21)] * 2,
        outputs=[np.zeros((h, w, 3), np.uint8)] * 2,
        teacher=teacher,
        num_samples=2)
    rows = prior_figure_rows(feats, k=4)
    titles = [t for t, _ in rows]
    assert titles[:4] == [
        'input / output', 'prior pyramid S^l (K-means)',
        'teacher features (K-means)', 'image features at the coarsest scale'
    ]
    assert titles[4:] == ['sample 0', 'sample 1']
    maps = [
        img for _, panels in rows[1:] for name, img in panels
        if name != 'output' and name != 'teacher 32x48'
    ]
    for img in maps:
        assert img.shape == (h, w, 3)
        np.testing.assert_array_equal(img, maps[0])
    # the finest teacher map has other canonical labels, yet its regions
    # take the colours of the matching prior regions
    fine_teacher = dict(rows[2][1])['teacher 32x48']
    corner = np.zeros((h, w), bool)
    corner[:h // 8, :w // 12] = True
    np.testing.assert_array_equal(fine_teacher[~corner], maps[0][~corner])
    assert (fine_teacher[0, 0] == maps[0][0, -1]).all()
    fig = compose_figure(rows)
    assert fig.dtype == np.uint8 and fig.shape[1] >= 3 * w


def test_tool_prob_with_teacher_and_samples(inputs):
    out = str(inputs['root'] / 'prob_vis')
    rc = TOOL.main([
        TINY_PROB, inputs['prob'], '--image', inputs['image'], '--mask',
        inputs['mask'], '--out-dir', out, '--teacher', '--num-samples', '2',
        '--size', '64'
    ])
    assert rc == 0
    files = set(os.listdir(out))
    expected = {
        'figure.png', 'input_masked.png', 'output.png', 'feat_enc.png',
        'feat_dec.png', 'prior_enc_level.png', 'sample0_prior.png',
        'sample1_prior.png', 'sample0_output.png', 'sample1_output.png'
    }
    assert expected <= files
    assert len([f for f in files if f.startswith('prior_')]) == 4  # 3 + enc
    assert len([f for f in files if f.startswith('teacher_')]) == 3
    prior = np.array(Image.open(osp.join(out, 'sample0_prior.png')))
    output = np.array(Image.open(osp.join(out, 'output.png')))
    assert prior.shape == output.shape
    # K-means colour maps use at most K=8 colours
    assert len(np.unique(prior.reshape(-1, 3), axis=0)) <= 8


def test_tool_errors(inputs, capsys):
    rc = run_cli(TOOL.main, [
        TINY_DET, inputs['det'], '--image', inputs['image'], '--mask',
        str(inputs['root'] / 'missing.png')
    ])
    assert rc == 1 and 'file not found' in capsys.readouterr().err


def test_tool_subprocess_det(inputs):
    out = str(inputs['root'] / 'det_vis')
    proc = run_tool('visualize_priors.py', [
        TINY_DET, inputs['det'], '--image', inputs['image'], '--mask',
        inputs['mask'], '--out-dir', out, '--size', '0'
    ])
    assert 'figure.png' in proc.stdout
    prior = np.array(Image.open(osp.join(out, 'prior_68x96.png')))
    assert prior.shape == (67, 93, 3)  # un-padded region at native size
