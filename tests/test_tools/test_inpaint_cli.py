"""tools/inpaint.py: single files, folders, CSV pairs, mask conventions,
HD strategies, samples and error messages.

Most cases call the tool's ``main(argv)`` in-process (fast); one runs it as
a real subprocess.
"""
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from test_apis.spn_api_fixtures import (TINY_DET, TINY_PROB,
                                        make_tiny_checkpoint, photo, rect_mask)
from utils import load_script, run_tool


TOOL = load_script('tools/inpaint.py', 'spn_inpaint_tool')


@pytest.fixture(scope='module')
def ckpts(tmp_path_factory):
    root = tmp_path_factory.mktemp('inpaint_ckpt')
    return dict(
        det=make_tiny_checkpoint(str(root / 'det.pth'), 'det'),
        prob=make_tiny_checkpoint(str(root / 'prob.pth'), 'prob'))


def _save(path, arr, **kw):
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    Image.fromarray(arr).save(str(path), **kw)
    return str(path)


def _read(path):
    return np.array(Image.open(path).convert('RGB'))


def _run(args, capsys):
    rc = TOOL.main(args)
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.parametrize('strategy', ['original', 'crop', 'resize'])
def test_single_image_each_strategy(tmp_path, ckpts, capsys, strategy):
    img = photo(333, 517)
    mask = rect_mask(333, 517, (0.4, 0.6, 0.2, 0.35))
    ip = _save(tmp_path / 'photo.jpg', img, quality=95)
    mp = _save(tmp_path / 'mask.png', mask)
    out = str(tmp_path / 'res.png')
    rc, stdout, _ = _run([
        TINY_DET, ckpts['det'], '--image', ip, '--mask', mp, '--out', out,
        '--hd-strategy', strategy, '--crop-margin', '32', '--resize-limit',
        '200'
    ], capsys)
    assert rc == 0 and f'wrote {out}' in stdout
    res = _read(out)
    src = _read(ip)  # the decoded JPEG is the input
    holes = mask > 0
    assert res.shape == src.shape
    np.testing.assert_array_equal(res[~holes], src[~holes])
    assert (res[holes] != src[holes]).any(axis=-1).mean() > 0.5


def test_folder_stem_matching_jpeg_masks_and_dilate(tmp_path, ckpts, capsys):
    imgs = {'a': photo(67, 93), 'b': photo(50, 70, 'chelsea')}
    _save(tmp_path / 'imgs' / 'a.png', imgs['a'])
    _save(tmp_path / 'imgs' / 'b.jpg', imgs['b'], quality=100)
    ma = rect_mask(67, 93)
    mb = rect_mask(50, 70, (0.1, 0.4, 0.5, 0.9))
    _save(tmp_path / 'masks' / 'a.jpg', ma, quality=60)  # JPEG mask
    _save(tmp_path / 'masks' / 'b_mask.png', mb)  # <stem>_mask
    rc, stdout, stderr = _run([
        TINY_DET, ckpts['det'], '--image',
        str(tmp_path / 'imgs'), '--mask',
        str(tmp_path / 'masks'), '--out',
        str(tmp_path / 'out'), '--dilate', '2'
    ], capsys)
    assert rc == 0, stderr
    assert 'wrote 2 of 2 image(s)' in stdout
    assert 'inpainting' in stderr  # progress bar
    assert sorted(os.listdir(tmp_path / 'out')) == [
        'a.png', 'b.png', 'inpaint_summary.json']
    res = _read(tmp_path / 'out' / 'a.png')
    from spn_mm.apis import dilate_mask
    holes = dilate_mask(ma > 0, 2)
    np.testing.assert_array_equal(res[~holes], imgs['a'][~holes])
    # dilation really grew the hole that was filled
    ring = holes & ~(ma > 0)
    assert (res[ring] != imgs['a'][ring]).any()


def test_pairs_csv_and_missing_files(tmp_path, ckpts, capsys):
    img = photo(40, 44)
    _save(tmp_path / 'x' / 'one.png', img)
    _save(tmp_path / 'x' / 'one_m.png', rect_mask(40, 44))
    csv = tmp_path / 'pairs.csv'
    csv.write_text('image,mask,output\nx/one.png,x/one_m.png,first.png\n'
                   'x/two.png,x/one_m.png,\n')
    rc, _, stderr = _run([
        TINY_DET, ckpts['det'], '--pairs',
        str(csv), '--out',
        str(tmp_path / 'out')
    ], capsys)
    assert rc == 1
    assert 'image: file not found' in stderr and 'two.png' in stderr
    assert osp.isfile(tmp_path / 'out' / 'first.png')


def test_folder_missing_mask_reported_others_written(tmp_path, ckpts,
                                                    capsys):
    _save(tmp_path / 'imgs' / 'a.png', photo(20, 20))
    _save(tmp_path / 'imgs' / 'lonely.png', photo(20, 20))
    _save(tmp_path / 'masks' / 'a.png', rect_mask(20, 20))
    rc, _, stderr = _run([
        TINY_DET, ckpts['det'], '--image',
        str(tmp_path / 'imgs'), '--mask',
        str(tmp_path / 'masks'), '--out',
        str(tmp_path / 'out')
    ], capsys)
    assert rc == 1
    assert 'no mask in' in stderr and 'lonely.png' in stderr
    assert osp.isfile(tmp_path / 'out' / 'a.png')
    assert not osp.exists(tmp_path / 'out' / 'lonely.png')


def test_mask_problems(tmp_path, ckpts, capsys):
    img = photo(40, 60)
    ip = _save(tmp_path / 'img.png', img)
    base = [TINY_DET, ckpts['det'], '--image', ip]
    # size mismatch
    mp = _save(tmp_path / 'small.png', rect_mask(40, 59))
    rc, _, err = _run(base + ['--mask', mp, '--out',
                              str(tmp_path / 'o1.png')], capsys)
    assert rc == 1 and 'does not match the image size 60x40' in err
    # empty mask: input written unchanged, with a notice
    mp = _save(tmp_path / 'empty.png', np.zeros((40, 60), np.uint8))
    rc, _, err = _run(base + ['--mask', mp, '--out',
                              str(tmp_path / 'o2.png')], capsys)
    assert rc == 0 and 'no hole pixels' in err
    np.testing.assert_array_equal(_read(tmp_path / 'o2.png'), img)
    # inverted-looking mask: warning, still processed
    mp = _save(tmp_path / 'inv.png', 255 - rect_mask(40, 60,
                                                     (0.4, 0.5, 0.4, 0.5)))
    rc, _, err = _run(base + ['--mask', mp, '--out',
                              str(tmp_path / 'o3.png')], capsys)
    assert rc == 0 and 'looks inverted' in err and "--hole" not in err
    # ... and --hole black reads it correctly without warning
    rc, _, err = _run(
        base +
        ['--mask', mp, '--hole', 'black', '--out',
         str(tmp_path / 'o4.png')], capsys)
    assert rc == 0 and 'inverted' not in err
    # unreadable image, missing mask
    bad = tmp_path / 'bad.png'
    bad.write_bytes(b'\x89PNG garbage')
    rc, _, err = _run(
        [TINY_DET, ckpts['det'], '--image',
         str(bad), '--mask', mp], capsys)
    assert rc == 1 and 'not a readable image' in err
    rc, _, err = _run(base + ['--mask', str(tmp_path / 'nope.png')], capsys)
    assert rc == 1 and 'file not found' in err


def test_samples_seed_and_grid(tmp_path, ckpts, capsys):
    img = photo(64, 70)
    ip = _save(tmp_path / 'img.png', img)
    mp = _save(tmp_path / 'm.png', rect_mask(64, 70))
    common = [
        TINY_PROB, ckpts['prob'], '--image', ip, '--mask', mp, '--num-samples',
        '3'
    ]
    rc, stdout, _ = _run(
        common + ['--seed', '1', '--out',
                  str(tmp_path / 'a' / 'r.png')], capsys)
    assert rc == 0
    files = sorted(os.listdir(tmp_path / 'a'))
    assert files == ['r_sample0.png', 'r_sample1.png', 'r_sample2.png']
    s = [_read(tmp_path / 'a' / f) for f in files]
    assert not np.array_equal(s[0], s[1])
    _run(common + ['--seed', '1', '--out',
                   str(tmp_path / 'b' / 'r.png')], capsys)
    _run(common + ['--seed', '2', '--out',
                   str(tmp_path / 'c' / 'r.png')], capsys)
    again = _read(tmp_path / 'b' / 'r_sample1.png')
    other = _read(tmp_path / 'c' / 'r_sample1.png')
    np.testing.assert_array_equal(again, s[1])
    assert not np.array_equal(other, s[1])
    rc, _, _ = _run(
        common + ['--seed', '1', '--grid', '--out',
                  str(tmp_path / 'g.png')], capsys)
    grid = _read(tmp_path / 'g.png')
    assert rc == 0 and grid.shape == (64, 3 * 70, 3)
    np.testing.assert_array_equal(grid[:, 70:140], s[1])


def test_alpha_hole_without_mask(tmp_path, ckpts, capsys):
    img = photo(36, 52)
    alpha = 255 - rect_mask(36, 52)
    ip = _save(tmp_path / 'cut.png',
               np.concatenate([img, alpha[..., None]], axis=2))
    rc, _, err = _run([
        TINY_DET, ckpts['det'], '--image', ip, '--hole', 'alpha', '--out',
        str(tmp_path / 'o.png')
    ], capsys)
    assert rc == 0, err
    res = _read(tmp_path / 'o.png')
    keep = alpha >= 128
    np.testing.assert_array_equal(res[keep], img[keep])
    rc, _, err = _run([TINY_DET, ckpts['det'], '--image', ip], capsys)
    assert rc == 1 and '--mask is required' in err


def test_cli_subprocess(tmp_path, ckpts):
    img = photo(45, 61)
    ip = _save(tmp_path / 'img.png', img)
    mp = _save(tmp_path / 'm.png', rect_mask(45, 61))
    out = str(tmp_path / 'out.png')
    proc = run_tool(
        'inpaint.py',
        [TINY_DET, ckpts['det'], '--image', ip, '--mask', mp, '--out', out])
    assert f'wrote {out}' in proc.stdout
    assert _read(out).shape == img.shape


@pytest.mark.parametrize('flag,expected', [(None, False), ('on', True),
                                           ('off', False)])
def test_low_memory_option(tmp_path, ckpts, capsys, monkeypatch, flag,
                           expected):
    """--low-memory auto (default; small image: off), on, off reach
    SPNGenerator.forward_test(low_memory=...)."""
    from spn_mm.models.editors.spn import SPNGenerator
    seen = []
    forward_test = SPNGenerator.forward_test

    def spy(self, *args, **kwargs):
        seen.append(kwargs.get('low_memory'))
        return forward_test(self, *args, **kwargs)

    monkeypatch.setattr(SPNGenerator, 'forward_test', spy)
    ip = _save(tmp_path / 'photo.png', photo(50, 70))
    mp = _save(tmp_path / 'mask.png', rect_mask(50, 70))
    out = str(tmp_path / 'res.png')
    args = [TINY_DET, ckpts['det'], '--image', ip, '--mask', mp, '--out', out]
    if flag:
        args += ['--low-memory', flag]
    rc, stdout, _ = _run(args, capsys)
    # the last call is the inpainting (earlier ones: minimum_side probes)
    assert rc == 0 and seen[-1] is expected
