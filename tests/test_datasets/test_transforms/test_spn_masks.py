import os.path as osp

import cv2
import numpy as np
import pytest

from spn_mm.datasets.mask_utils import mask_image_to_holes, read_mask
from spn_mm.evaluation.buckets import assign_bucket, bucket_names
from spn_mm.datasets.transforms.masks import generate_irregular_mask
from spn_mm.registry import TRANSFORMS


@pytest.mark.parametrize('ratio_range', [(0.0, 0.2), (0.2, 0.4), (0.4, 0.6),
                                         (0.01, 0.05), (0.5, 0.9)])
def test_generator_hits_ratio_range(ratio_range):
    rng = np.random.default_rng(0)
    lo, hi = ratio_range
    ratios = []
    for _ in range(20):
        m = generate_irregular_mask((128, 96), ratio_range, rng)
        assert m.shape == (128, 96, 1) and m.dtype == np.uint8
        assert set(np.unique(m)) <= {0, 1}
        ratios.append(m.mean())
    assert lo <= min(ratios) and max(ratios) <= hi
    # it is a target *range*: not collapsed on one edge
    assert max(ratios) - min(ratios) > (hi - lo) * 0.2


def test_generator_seeded_and_transform_deterministic():
    a = generate_irregular_mask((64, 64), (0.1, 0.5), np.random.default_rng(3))
    b = generate_irregular_mask((64, 64), (0.1, 0.5), np.random.default_rng(3))
    c = generate_irregular_mask((64, 64), (0.1, 0.5), np.random.default_rng(4))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    # global np.random path (what mmengine seeds per worker)
    np.random.seed(7)
    d = generate_irregular_mask((64, 64), (0.1, 0.5))
    np.random.seed(7)
    e = generate_irregular_mask((64, 64), (0.1, 0.5))
    assert np.array_equal(d, e)

    def run(seed):
        t = TRANSFORMS.build(
            dict(
                type='SPNRandomIrregularMask',
                ratio_range=(0.2, 0.4),
                seed=seed))
        img = np.zeros((48, 40, 3), np.uint8)
        return [t(dict(gt=img))['mask'] for _ in range(3)]

    r1, r2, r3 = run(1), run(1), run(2)
    assert all(np.array_equal(x, y) for x, y in zip(r1, r2))
    assert not all(np.array_equal(x, y) for x, y in zip(r1, r3))
    assert r1[0].shape == (48, 40, 1)
    assert not np.array_equal(r1[0], r1[1])  # a new mask every call
    for m in r1:
        assert 0.2 <= m.mean() <= 0.4


def test_bad_ratio_range():
    with pytest.raises(ValueError, match='ratio_range'):
        generate_irregular_mask((64, 64), (0.5, 0.4))
    with pytest.raises(ValueError, match='ratio_range'):
        TRANSFORMS.build(
            dict(type='SPNRandomIrregularMask', ratio_range=(0.1, 1.5)))


def test_jpeg_mask_binarisation(tmp_path):
    mask = generate_irregular_mask((128, 128), (0.3, 0.4),
                                   np.random.default_rng(0))[..., 0]
    path = str(tmp_path / 'm.jpg')
    cv2.imwrite(path, mask * 255, [cv2.IMWRITE_JPEG_QUALITY, 75])
    raw = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    assert ((raw != 0) & (raw != 255)).mean() > 0.01  # JPEG ringing exists
    m = read_mask(path)
    assert m.shape == (128, 128, 1) and m.dtype == np.uint8
    assert set(np.unique(m)) <= {0, 1}
    # threshold 127 recovers the strokes; a naive `> 0` would not
    assert (m[..., 0] != mask).mean() < 0.002
    assert ((raw > 0) != mask.astype(bool)).mean() > \
        5 * (m[..., 0] != mask).mean()
    # colour masks are averaged, invert flips
    col = np.repeat((mask * 255)[..., None], 3, axis=2)
    assert np.array_equal(mask_image_to_holes(col)[..., 0], mask)
    assert np.array_equal(
        mask_image_to_holes(col, invert=True)[..., 0], 1 - mask)


def test_read_mask_resize_is_nearest(tmp_path):
    mask = np.zeros((300, 200), np.uint8)
    mask[40:200, 20:120] = 255
    path = str(tmp_path / 'm.png')
    cv2.imwrite(path, mask)
    m = read_mask(path, (64, 48))
    assert m.shape == (64, 48, 1)
    ref = cv2.resize(
        (mask > 127).astype(np.uint8), (48, 64),
        interpolation=cv2.INTER_NEAREST)
    assert np.array_equal(m[..., 0], ref)
    with pytest.raises(FileNotFoundError, match='mask_path'):
        read_mask(str(tmp_path / 'missing.png'))


def test_load_mask_from_set(tmp_path):
    root = tmp_path / 'masks'
    root.mkdir()
    # asymmetric masks so flips are visible
    for i in range(4):
        m = np.zeros((100, 100), np.uint8)
        m[10 * i:10 * i + 30, 0:20 + 10 * i] = 255
        cv2.imwrite(str(root / f'{i:05d}.png'), m)
    (tmp_path / 'list.txt').write_text('00001.png\n00003.png\n')

    def run(seed, **kw):
        t = TRANSFORMS.build(
            dict(
                type='SPNLoadMaskFromSet',
                mask_root=str(root),
                seed=seed,
                **kw))
        outs = [t(dict(gt=np.zeros((50, 60, 3), np.uint8))) for _ in range(12)]
        return t, outs

    t, outs = run(0)
    assert len(t.files) == 4
    for o in outs:
        assert o['mask'].shape == (50, 60, 1) and o['mask'].dtype == np.uint8
        assert set(np.unique(o['mask'])) <= {0, 1}
    paths = [o['mask_path'] for o in outs]
    assert len(set(paths)) > 1
    _, outs2 = run(0)
    assert paths == [o['mask_path'] for o in outs2]
    assert all(
        np.array_equal(a['mask'], b['mask']) for a, b in zip(outs, outs2))
    # flips: with flip_ratio=1 every mask equals the mirrored file
    _, flipped = run(0, flip_ratio=1.0)
    for o in flipped:
        ref = read_mask(o['mask_path'], (50, 60))
        assert np.array_equal(o['mask'], ref[:, ::-1])
    _, plain = run(0, flip_ratio=0.0)
    for o in plain:
        assert np.array_equal(o['mask'], read_mask(o['mask_path'], (50, 60)))
    # list file restricts the pool (disjoint-mask protocol)
    _, listed = run(1, mask_list=str(tmp_path / 'list.txt'))
    assert {osp.basename(o['mask_path'])
            for o in listed} <= {'00001.png', '00003.png'}
    with pytest.raises(FileNotFoundError, match='mask_root'):
        TRANSFORMS.build(
            dict(type='SPNLoadMaskFromSet', mask_root=str(tmp_path / 'no')))


def test_irregular_mask_source_switch(tmp_path):
    t = TRANSFORMS.build(
        dict(
            type='SPNIrregularMask',
            source='auto',
            mask_root=str(tmp_path / 'absent'),
            ratio_range=(0.1, 0.3),
            seed=0))
    assert t.source == 'procedural'
    m = t(dict(gt=np.zeros((32, 32, 3), np.uint8)))['mask']
    assert 0.1 <= m.mean() <= 0.3
    (tmp_path / 'set').mkdir()
    cv2.imwrite(
        str(tmp_path / 'set' / 'a.png'), np.full((8, 8), 255, np.uint8))
    t = TRANSFORMS.build(
        dict(type='SPNIrregularMask', mask_root=str(tmp_path / 'set')))
    assert t.source == 'set'
    assert t(dict(gt=np.zeros((16, 16, 3), np.uint8)))['mask'].all()
    with pytest.raises(ValueError, match='source'):
        TRANSFORMS.build(dict(type='SPNIrregularMask', source='nvidia'))


def test_load_paired_mask(tmp_path):
    mask = np.zeros((90, 90), np.uint8)
    mask[:45] = 255
    cv2.imwrite(str(tmp_path / 'm.png'), mask)
    t = TRANSFORMS.build(dict(type='SPNLoadPairedMask'))
    res = t(
        dict(
            gt=np.zeros((30, 20, 3), np.uint8),
            mask_path=str(tmp_path / 'm.png'),
            hole_ratio=0.5))
    assert res['mask'].shape == (30, 20, 1) and res['mask'].mean() == 0.5
    # a pipeline that resizes differently from the manifest is caught
    with pytest.raises(ValueError, match='manifest'):
        t(
            dict(
                gt=np.zeros((30, 20, 3), np.uint8),
                mask_path=str(tmp_path / 'm.png'),
                hole_ratio=0.4))
    t = TRANSFORMS.build(
        dict(type='SPNLoadPairedMask', on_ratio_mismatch='ignore'))
    t(
        dict(
            gt=np.zeros((30, 20, 3), np.uint8),
            mask_path=str(tmp_path / 'm.png'),
            hole_ratio=0.4))
    # manifest-provided threshold / invert
    inv = t(
        dict(
            gt=np.zeros((30, 20, 3), np.uint8),
            mask_path=str(tmp_path / 'm.png'),
            mask_invert=True))
    assert inv['mask'][:15].sum() == 0 and inv['mask'][15:].all()


def test_buckets():
    assert bucket_names() == ['0.0-0.2', '0.2-0.4', '0.4-0.6']
    assert assign_bucket(0.0) == '0.0-0.2'
    assert assign_bucket(0.1999) == '0.0-0.2'
    assert assign_bucket(0.2) == '0.2-0.4'
    assert assign_bucket(0.6) == '0.4-0.6'
    assert assign_bucket(0.61) == 'out_of_range'
    assert bucket_names([0, 0.25, 1]) == ['0.0-0.25', '0.25-1.0']
    with pytest.raises(ValueError, match='bucket_edges'):
        bucket_names([0.2, 0.1])
