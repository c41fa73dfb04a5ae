"""Catalogue rows of tools/inpaint.py folder and CSV runs (docs/reliability.md).

One folder run (subprocess) holds every image/mask variant at once: the good
pairs are written with their known pixels unchanged, the bad ones are listed
at the end and in the JSON summary, and the exit status is 1. A second run
(CSV, JPEG outputs, ``--skip-existing``, and a "full disk" for one output via
a file size limit on the process) covers the output rows.
"""
import json
import os
import os.path as osp
import resource
import signal

import cv2
import numpy as np
import pytest
from PIL import Image
from rel_fixtures import box_mask, cli, save, smooth_image

from test_apis.spn_api_fixtures import TINY_DET, make_tiny_checkpoint

S = 48  # image side of the ordinary cases


@pytest.fixture(scope='module')
def ckpt(tmp_path_factory):
    root = tmp_path_factory.mktemp('rel_ckpt')
    return make_tiny_checkpoint(str(root / 'det.pth'), 'det')


def _bgr16(rgb16):
    return cv2.cvtColor(rgb16, cv2.COLOR_RGB2BGR)


@pytest.fixture(scope='module')
def folder_run(tmp_path_factory, ckpt):
    """Write every variant, run one folder inpaint, return what is needed."""
    root = tmp_path_factory.mktemp('rel_folder')
    imgs, masks, out = (str(root / d) for d in ('imgs', 'masks', 'out'))
    ref = {}  # stem -> (expected known pixels as read independently, holes)

    def pair(stem, img, mask, img_ext='png', mask_ext='png', **kw):
        save(osp.join(imgs, f'{stem}.{img_ext}'), img, **kw)
        if mask is not None:
            save(osp.join(masks, f'{stem}.{mask_ext}'), mask)

    img = smooth_image(S, S, 1)
    pair('rgb', img, box_mask(S, S))
    ref['rgb'] = (img, box_mask(S, S) > 127)
    grey = smooth_image(S, S, 2)[..., 0]
    pair('grey', grey, box_mask(S, S))
    ref['grey'] = (np.repeat(grey[..., None], 3, 2), box_mask(S, S) > 127)
    rgba = np.dstack([smooth_image(S, S, 3), np.full((S, S), 77, np.uint8)])
    pair('rgba', rgba, box_mask(S, S))
    pal = Image.fromarray(smooth_image(S, S, 4)).convert('P')
    os.makedirs(imgs, exist_ok=True)
    pal.save(osp.join(imgs, 'palette.png'))
    save(osp.join(masks, 'palette.png'), box_mask(S, S))
    ref['palette'] = (np.array(pal.convert('RGB')), box_mask(S, S) > 127)
    # EXIF orientation 6 (rotate 90 clockwise): the user sees a (S+8, S) image
    exif_raw = smooth_image(S, S + 8, 5)
    exif = Image.fromarray(exif_raw).getexif()
    exif[0x0112] = 6
    Image.fromarray(exif_raw).save(
        osp.join(imgs, 'exif.jpg'), quality=95, exif=exif)
    save(osp.join(masks, 'exif.png'), box_mask(S + 8, S))
    # 16-bit RGB and grey PNGs
    deep = (smooth_image(S, S, 6).astype(np.uint16) * 256 +
            np.arange(S, dtype=np.uint16)[None, :, None])
    cv2.imwrite(osp.join(imgs, 'deep.png'), _bgr16(deep))
    save(osp.join(masks, 'deep.png'), box_mask(S, S))
    deep_grey = deep[..., 1].copy()
    cv2.imwrite(osp.join(imgs, 'deepgrey.png'), deep_grey)
    save(osp.join(masks, 'deepgrey.png'), box_mask(S, S))
    # tiny images: 3x5 full hole (reflect), 1x1 (replicate), 7x2
    pair('tiny', smooth_image(3, 5, 7), np.full((3, 5), 255, np.uint8))
    pair('one', smooth_image(1, 1, 8), np.full((1, 1), 255, np.uint8))
    thin = smooth_image(7, 2, 9)
    thin_mask = np.zeros((7, 2), np.uint8)
    thin_mask[3, 1] = 255
    pair('thin', thin, thin_mask)
    ref['thin'] = (thin, thin_mask > 127)
    # masks: 0/1 values, JPEG, empty, full/inverted
    img01 = smooth_image(S, S, 10)
    pair('mask01', img01, (box_mask(S, S) > 0).astype(np.uint8))
    ref['mask01'] = (img01, box_mask(S, S) > 0)
    imgj = smooth_image(S, S, 11)
    pair('maskjpg', imgj, box_mask(S, S), mask_ext='jpg')
    ref['maskjpg'] = (imgj, np.array(Image.open(
        osp.join(masks, 'maskjpg.jpg')).convert('L')) >= 128)
    pair('empty', smooth_image(S, S, 12), np.zeros((S, S), np.uint8))
    inv = 255 - box_mask(S, S)
    pair('inverted', smooth_image(S, S, 13), inv)
    ref['inverted'] = (smooth_image(S, S, 13), inv > 127)
    # 16-bit and palette masks
    img16m = smooth_image(S, S, 18)
    pair('mask16', img16m, None)
    cv2.imwrite(osp.join(masks, 'mask16.png'),
                (box_mask(S, S) > 0).astype(np.uint16) * 65535)
    ref['mask16'] = (img16m, box_mask(S, S) > 0)
    imgp = smooth_image(S, S, 19)
    pair('maskpal', imgp, None)
    Image.fromarray(box_mask(S, S)).convert('P').save(
        osp.join(masks, 'maskpal.png'))
    ref['maskpal'] = (imgp, box_mask(S, S) > 127)
    # bad ones
    pair('maskbad', smooth_image(S, S, 20), None)
    with open(osp.join(masks, 'maskbad.png'), 'w') as f:
        f.write('not a mask\n')
    pair('wrongsize', smooth_image(S, S, 14), box_mask(S // 2, S))
    pair('nomask', smooth_image(S, S, 15), None)
    with open(osp.join(imgs, 'notimage.png'), 'w') as f:
        f.write('this is not a PNG\n')
    save(osp.join(masks, 'notimage.png'), box_mask(S, S))
    save(osp.join(imgs, 'whole.png'), smooth_image(S, S, 16))
    data = open(osp.join(imgs, 'whole.png'), 'rb').read()
    os.remove(osp.join(imgs, 'whole.png'))
    with open(osp.join(imgs, 'truncated.png'), 'wb') as f:
        f.write(data[:len(data) // 2])
    save(osp.join(masks, 'truncated.png'), box_mask(S, S))
    with open(osp.join(imgs, 'emptyfile.png'), 'wb'):
        pass
    save(osp.join(masks, 'emptyfile.png'), box_mask(S, S))
    pair('huge', np.full((1100, 1000, 3), 90, np.uint8),
         box_mask(1100, 1000))
    pair('blocked', smooth_image(S, S, 17), box_mask(S, S))
    os.makedirs(osp.join(out, 'blocked.png'))  # the output path is a folder

    proc = cli('inpaint.py', [
        TINY_DET, ckpt, '--image', imgs, '--mask', masks, '--out', out
    ])
    return dict(
        proc=proc,
        imgs=imgs,
        masks=masks,
        out=out,
        ref=ref,
        deep=deep,
        deep_grey=deep_grey,
        rgba=rgba,
        exif_raw=exif_raw)


BAD = {
    'maskbad': 'mask: cannot read',
    'wrongsize': 'does not match the image size',
    'nomask': 'no mask in',
    'notimage': 'not a readable image',
    'truncated': 'not a readable image',
    'emptyfile': 'not a readable image',
    'huge': 'max_pixels',
    'blocked': 'blocked.png',
}
GOOD = ('rgb', 'grey', 'rgba', 'palette', 'exif', 'deep', 'deepgrey', 'tiny',
        'one', 'thin', 'mask01', 'maskjpg', 'empty', 'inverted', 'mask16',
        'maskpal')


def _summary(run):
    with open(osp.join(run['out'], 'inpaint_summary.json')) as f:
        return json.load(f)


def test_folder_run_status_and_summary(folder_run):
    proc = folder_run['proc']
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-4000:]
    assert 'Traceback' not in out, out[-4000:]
    summary = _summary(folder_run)
    assert summary['total'] == len(GOOD) + len(BAD)
    assert summary['written'] == len(GOOD), summary
    assert summary['failed'] == len(BAD)
    reasons = {
        osp.splitext(osp.basename(f['image']))[0]: f['reason']
        for f in summary['failures']
    }
    assert set(reasons) == set(BAD)
    tail = proc.stderr[proc.stderr.index('image(s) failed:'):]
    for stem, needle in BAD.items():
        assert needle in reasons[stem], (stem, reasons[stem])
        assert f'{stem}.' in tail and needle in tail  # reported at the end
    assert f'{len(BAD)} image(s) failed' in proc.stderr


def test_folder_run_outputs_and_known_pixels(folder_run):
    out = folder_run['out']
    names = sorted(os.listdir(out))
    assert not [n for n in names if '.tmp' in n]  # atomic writes
    for stem in GOOD:
        assert f'{stem}.png' in names, stem
    for stem in BAD:
        if stem != 'blocked':
            assert f'{stem}.png' not in names
    assert osp.isdir(osp.join(out, 'blocked.png'))
    for stem, (known, holes) in folder_run['ref'].items():
        res = np.array(Image.open(osp.join(out, f'{stem}.png')).convert('RGB'))
        assert res.shape == known.shape, stem
        assert np.array_equal(res[~holes], known[~holes]), stem


def test_folder_run_bit_depth_alpha_exif_tiny(folder_run):
    out, holes = folder_run['out'], box_mask(S, S) > 127
    deep = cv2.imread(osp.join(out, 'deep.png'), cv2.IMREAD_UNCHANGED)
    assert deep.dtype == np.uint16 and deep.shape == (S, S, 3)
    deep = cv2.cvtColor(deep, cv2.COLOR_BGR2RGB)
    assert np.array_equal(deep[~holes], folder_run['deep'][~holes])
    assert (deep[holes] % 257 == 0).all()  # 8-bit fill scaled by 257
    grey = cv2.imread(osp.join(out, 'deepgrey.png'), cv2.IMREAD_UNCHANGED)
    assert grey.dtype == np.uint16 and grey.shape == (S, S)
    assert np.array_equal(grey[~holes], folder_run['deep_grey'][~holes])
    rgba = np.array(Image.open(osp.join(out, 'rgba.png')))
    assert rgba.shape == (S, S, 4)
    assert np.array_equal(rgba[..., 3], folder_run['rgba'][..., 3])
    assert np.array_equal(rgba[~holes][:, :3], folder_run['rgba'][~holes][:, :3])
    exif = np.array(Image.open(osp.join(out, 'exif.png')))
    assert exif.shape == (S + 8, S, 3)  # the EXIF rotation was applied
    shown = np.array(Image.open(osp.join(folder_run['imgs'], 'exif.jpg'))
                     .transpose(Image.Transpose.ROTATE_270).convert('RGB'))
    exif_holes = box_mask(S + 8, S) > 127
    assert np.array_equal(exif[~exif_holes], shown[~exif_holes])
    for stem, shape in (('tiny', (3, 5, 3)), ('one', (1, 1, 3))):
        assert np.array(Image.open(osp.join(out, f'{stem}.png'))).shape == \
            shape
    empty = np.array(Image.open(osp.join(out, 'empty.png')))
    assert np.array_equal(empty, smooth_image(S, S, 12))
    err = folder_run['proc'].stderr
    assert 'no hole pixels' in err and 'looks inverted' in err


FILE_LIMIT = 150_000  # bytes: a "full disk" for one large output


def test_csv_run_jpeg_outputs_skip_existing_disk_full(tmp_path, folder_run,
                                                      ckpt):
    """CSV pairs, JPEG outputs of 16-bit/RGBA inputs, ``--skip-existing``,
    missing files, and a disk that fills up while one output is written
    (a file size limit on the process): that output fails cleanly, no
    truncated file and no temp file is left."""
    imgs, masks = folder_run['imgs'], folder_run['masks']
    side = 320  # noise PNG: ~300 kB > FILE_LIMIT
    noise = np.random.default_rng(0).integers(0, 256, (side, side, 3),
                                              np.uint8)
    save(str(tmp_path / 'noise.png'), noise)
    save(str(tmp_path / 'noise_mask.png'), box_mask(side, side))
    out = str(tmp_path / 'csvout')
    save(osp.join(out, 'done.jpg'), smooth_image(8, 8))  # an earlier run
    done_before = open(osp.join(out, 'done.jpg'), 'rb').read()
    csv = tmp_path / 'pairs.csv'
    csv.write_text(
        'image,mask,output\n'
        f'{imgs}/deep.png,{masks}/deep.png,deep.jpg\n'
        f'{imgs}/rgba.png,{masks}/rgba.png,rgba.jpg\n'
        f'{imgs}/rgb.png,{masks}/rgb.png,done.jpg\n'
        f'{imgs}/missing.png,{masks}/rgb.png,missing.jpg\n'
        f'{imgs}/rgb.png,{masks}/nothere.png,nomask.jpg\n'
        'noise.png,noise_mask.png,big.png\n')
    summary = str(tmp_path / 'sum.json')
    proc = cli('inpaint.py', [
        TINY_DET, ckpt, '--pairs',
        str(csv), '--out', out, '--ext', 'jpg', '--skip-existing',
        '--summary', summary
    ],
               preexec_fn=_limit_file_size)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 1 and 'Traceback' not in text, text[-3000:]
    assert 'cannot store 16-bit samples' in proc.stderr
    assert 'transparency is dropped' in proc.stderr
    with open(summary) as f:
        s = json.load(f)
    assert (s['total'], s['written'], s['skipped'], s['failed']) == (6, 2, 1,
                                                                     3)
    reasons = ' '.join(f['reason'] for f in s['failures'])
    assert 'missing.png' in reasons and 'nothere.png' in reasons
    assert 'File too large' in reasons
    assert sorted(os.listdir(out)) == ['deep.jpg', 'done.jpg', 'rgba.jpg']
    assert open(osp.join(out, 'done.jpg'), 'rb').read() == done_before
    assert Image.open(osp.join(out, 'deep.jpg')).mode == 'RGB'


def _limit_file_size():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))
