"""Catalogue rows of single inputs: tools/inpaint.py's ``main(argv)`` (the
CLI entry point, in-process: each case costs milliseconds instead of a 10 s
subprocess) and the :class:`SPNInpainter` API (docs/reliability.md)."""
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image
from rel_fixtures import TESTS_DIR, box_mask, save, smooth_image

from spn_mm.apis import CheckpointError, SPNInpainter
from test_apis.spn_api_fixtures import (TINY_DET, TINY_PROB,
                                        make_tiny_checkpoint)
from utils import load_script

S = 32


TOOL = load_script('tools/inpaint.py', 'rel_inpaint_tool')


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp('rel_single')
    f = dict(root=str(root))
    f['det'] = make_tiny_checkpoint(str(root / 'det.pth'), 'det')
    f['prob'] = make_tiny_checkpoint(str(root / 'prob.pth'), 'prob')
    data = open(f['det'], 'rb').read()
    f['truncated'] = str(root / 'truncated.pth')
    open(f['truncated'], 'wb').write(data[:len(data) // 3])
    f['foreign'] = str(root / 'foreign.pth')
    open(f['foreign'], 'w').write('{"not": "a checkpoint"}\n')
    state = torch.load(f['det'], weights_only=False)
    key = next(k for k in state['state_dict'] if k.startswith('generator.')
               and state['state_dict'][k].is_floating_point())
    state['state_dict'][key] = state['state_dict'][key].clone()
    state['state_dict'][key].view(-1)[0] = float('nan')
    f['nan_key'] = key
    f['nan'] = str(root / 'nan.pth')
    torch.save(state, f['nan'])
    f['bad_cfg'] = str(root / 'broken.py')
    open(f['bad_cfg'], 'w').write('model = dict(type=\n')
    f['img'] = save(str(root / 'img.png'), smooth_image(S, S))
    f['mask'] = save(str(root / 'mask.png'), box_mask(S, S))
    rgba = np.dstack([smooth_image(S, S, 1), np.full((S, S), 200, np.uint8)])
    rgba[..., 3][box_mask(S, S) > 0] = 0  # transparent = hole
    f['rgba'] = rgba
    f['rgba_path'] = save(str(root / 'rgba.png'), rgba)
    f['empty_dir'] = str(root / 'emptydir')
    (root / 'emptydir').mkdir()
    f['short_csv'] = str(root / 'short.csv')
    open(f['short_csv'], 'w').write('image,mask\nonly_one.png\n')
    f['empty_csv'] = str(root / 'empty.csv')
    open(f['empty_csv'], 'w').write('image,mask\n')
    f['noalpha'] = save(str(root / 'noalpha.png'), smooth_image(S, S, 2))
    return f


def _run(argv, capsys):
    rc = TOOL.main(argv)
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def _one_error(rc, err, *needles):
    assert rc == 1, err
    assert 'Traceback' not in err
    lines = [ln for ln in err.splitlines() if ln.startswith('error: ')]
    assert len(lines) == 1, err
    for n in needles:
        assert n in lines[0], (n, lines[0])


CASES = {
    # row id: (argv builder, needles)
    'image-missing': (lambda f: [TINY_DET, f['det'], '--image', 'nope.png',
                                 '--mask', f['mask']],
                      ['--image: file not found', 'nope.png']),
    'mask-missing': (lambda f: [TINY_DET, f['det'], '--image', f['img'],
                                '--mask', 'nomask.png'],
                     ['--mask: file not found', 'nomask.png']),
    'folder-mask-file': (lambda f: [TINY_DET, f['det'], '--image', f['root'],
                                    '--mask', f['mask']],
                         ['--mask must be a folder']),
    'folder-empty': (lambda f: [TINY_DET, f['det'], '--image', f['empty_dir'],
                                '--mask', f['empty_dir']],
                     ['has no images']),
    'csv-short-row': (lambda f: [TINY_DET, f['det'], '--pairs',
                                 f['short_csv']],
                      ['row 1 needs at least image,mask']),
    'csv-empty': (lambda f: [TINY_DET, f['det'], '--pairs', f['empty_csv']],
                  ['has no rows']),
    'csv-missing': (lambda f: [TINY_DET, f['det'], '--pairs', 'nope.csv'],
                    ['--pairs: CSV file not found']),
    'ckpt-missing': (lambda f: [TINY_DET, 'none.pth', '--image', f['img'],
                                '--mask', f['mask']],
                     ['checkpoint file not found', 'none.pth']),
    'ckpt-truncated': (lambda f: [TINY_DET, f['truncated'], '--image',
                                  f['img'], '--mask', f['mask']],
                       ['truncated.pth', 'truncated or not a torch']),
    'ckpt-foreign': (lambda f: [TINY_DET, f['foreign'], '--image', f['img'],
                                '--mask', f['mask']],
                     ['foreign.pth', 'truncated or not a torch']),
    'ckpt-nan': (lambda f: [TINY_DET, f['nan'], '--image', f['img'],
                            '--mask', f['mask']],
                 ['nan.pth', 'NaN/inf']),
    'ckpt-wrong-variant': (lambda f: [TINY_DET, f['prob'], '--image',
                                      f['img'], '--mask', f['mask']],
                           ['does not match the generator']),
    'config-missing': (lambda f: ['none.py', f['det'], '--image', f['img'],
                                  '--mask', f['mask']],
                       ['config file not found', 'none.py']),
    'config-broken': (lambda f: [f['bad_cfg'], f['det'], '--image', f['img'],
                                 '--mask', f['mask']],
                      ['broken.py']),
    'config-not-spn': (lambda f: [
        osp.join(TESTS_DIR, 'configs', 'aot_tiny.py'), f['det'], '--image',
        f['img'], '--mask', f['mask']
    ], ['no SPN `generator`']),
    'alpha-without-alpha': (lambda f: [TINY_DET, f['det'], '--image',
                                       f['noalpha'], '--hole', 'alpha'],
                            ['alpha channel']),
    'out-not-writable': (lambda f: [TINY_DET, f['det'], '--image', f['img'],
                                    '--mask', f['mask'], '--out',
                                    osp.join(f['img'], 'r.png')],
                         ['img.png']),
    'device-missing': (lambda f: [TINY_DET, f['det'], '--image', f['img'],
                                  '--mask', f['mask'], '--device', 'cuda:7'],
                       ['cuda']),
    'num-samples': (lambda f: [TINY_DET, f['det'], '--image', f['img'],
                               '--mask', f['mask'], '--num-samples', '0'],
                    ['--num-samples must be >= 1']),
}


@pytest.mark.parametrize('row', sorted(CASES))
def test_cli_user_error_one_line(row, files, capsys):
    build, needles = CASES[row]
    if row == 'device-missing' and torch.cuda.device_count() > 7:
        pytest.skip('a machine with 8 GPUs has cuda:7')
    rc, _, err = _run(build(files), capsys)
    _one_error(rc, err, *needles)


def test_debug_shows_traceback(files):
    with pytest.raises(CheckpointError, match='NaN/inf'):
        TOOL.main([
            TINY_DET, files['nan'], '--image', files['img'], '--mask',
            files['mask'], '--debug'
        ])


def test_alpha_holes_become_opaque(files, capsys, tmp_path):
    out = str(tmp_path / 'a.png')
    rc, _, err = _run([
        TINY_DET, files['det'], '--image', files['rgba_path'], '--hole',
        'alpha', '--out', out
    ], capsys)
    assert rc == 0, err
    res = np.array(Image.open(out))
    src = files['rgba']
    holes = src[..., 3] < 128
    assert res.shape == (S, S, 4)
    assert (res[..., 3][holes] == 255).all()
    assert np.array_equal(res[~holes], src[~holes])


def test_api_refuses_nan_and_names_the_key(files):
    with pytest.raises(CheckpointError) as info:
        SPNInpainter(TINY_DET, files['nan'])
    msg = str(info.value)
    assert '\n' not in msg and files['nan_key'] in msg


@pytest.mark.parametrize('variant,shape', [('det', (3, 5)), ('det', (1, 1)),
                                           ('det', (2, 9)),
                                           ('prob', (5, 3))])
def test_api_tiny_images_padded_and_cropped(files, variant, shape):
    config = TINY_DET if variant == 'det' else TINY_PROB
    inp = SPNInpainter(config, files[variant])
    img = smooth_image(*shape, seed=3)
    mask = np.zeros(shape, bool)
    mask.flat[0] = True
    out = inp.inpaint(img, mask, seed=0)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.array_equal(out[~mask], img[~mask])
    # the padded side is the model's minimum side, a multiple of its divisor
    assert inp.min_side % inp.multiple == 0
    plan = inp.prepare(img, mask)[2]
    assert min(plan.net_shape) >= inp.min_side


def test_minimum_side_of_the_tiny_det_model(files):
    """Its dilated (2) reflect-padded blocks run at 1/4 scale and need more
    than 2 pixels there: the smallest multiple of 4 with side / 4 > 2."""
    inp = SPNInpainter(TINY_DET, files['det'])
    assert inp.multiple == 4
    assert inp.min_side == min(s for s in range(4, 64, 4) if s // 4 > 2)


def test_api_uint16_array_refused(files):
    inp = SPNInpainter(TINY_DET, files['det'])
    with pytest.raises(TypeError, match='uint8'):
        inp.inpaint(np.zeros((S, S, 3), np.uint16), box_mask(S, S))


@pytest.mark.parametrize('mask_shape,needle', [
    ((S, S, 2), 'expected an (H, W) or (H, W, 3) mask, got shape'),
    ((1, S, S, 1), 'expected an (H, W) or (H, W, 3) mask, got shape'),
    ((S // 2, S), 'does not match the image size'),
])
def test_api_mask_array_of_the_wrong_shape(files, mask_shape, needle):
    """API mask arrays of another layout or size: one-line ValueError."""
    inp = SPNInpainter(TINY_DET, files['det'])
    mask = np.zeros(mask_shape, np.uint8)
    mask[..., :2, :2] = 255
    with pytest.raises(ValueError) as info:
        inp.inpaint(smooth_image(S, S, seed=1), mask)
    msg = str(info.value)
    assert needle in msg and '\n' not in msg, msg
