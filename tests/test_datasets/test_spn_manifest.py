import hashlib
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from spn_mm.datasets import (build_manifest, load_manifest, pair_indices,
                             verify_manifest, write_manifest)
from spn_mm.datasets.mask_utils import read_mask
from spn_mm.registry import DATASETS, MODELS
from test_datasets.spn_data_fixtures import photo, write_masks, write_rgb


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy'))
    for i in range(12):
        write_rgb(osp.join(root, 'imgs', f'{i:03d}.jpg'), photo(i, (90, 120)))
    masks = write_masks(osp.join(root, 'masks'), 20)
    imgs = [f'{i:03d}.jpg' for i in range(12)]
    return root, imgs, masks


def test_pair_indices_without_replacement():
    p = pair_indices(12, 20, seed=0)
    assert len(p) == 12 and len(set(p)) == 12
    assert p == pair_indices(12, 20, seed=0)
    assert p != pair_indices(12, 20, seed=1)
    # more images than masks: every mask used equally often (+-1)
    q = pair_indices(25, 10, seed=0)
    counts = np.bincount(q, minlength=10)
    assert counts.min() == 2 and counts.max() == 3
    assert sorted(q[:10]) == list(range(10))


def test_manifest_build_write_load_verify(toy, tmp_path):
    root, imgs, masks = toy
    img_root, mask_root = osp.join(root, 'imgs'), osp.join(root, 'masks')
    header, records = build_manifest(
        img_root, imgs, mask_root, masks, size=(64, 64), seed=0, dataset='toy')
    assert [r['idx'] for r in records] == list(range(12))
    assert [r['img'] for r in records] == imgs
    assert len({r['mask'] for r in records}) == 12  # without replacement
    for r in records:
        # the ratio is measured after the resize the test pipeline uses
        m = read_mask(osp.join(mask_root, r['mask']), (64, 64))
        assert r['hole_pixels'] == int(m.sum())
        assert r['hole_ratio'] == float(m.mean())
        assert r['bucket'] in ('0.0-0.2', '0.2-0.4', '0.4-0.6')
        with open(osp.join(img_root, r['img']), 'rb') as f:
            assert r['img_sha1'] == hashlib.sha1(f.read()).hexdigest()
    assert sum(header['bucket_counts'].values()) == 12
    assert header['size'] == [64, 64] and not header['with_replacement']

    path = str(tmp_path / 'm.jsonl')
    h = write_manifest(path, header, records)
    with open(path, 'rb') as f:
        content = f.read()
    assert h == hashlib.sha1(content).hexdigest()
    h2, r2, hash2 = load_manifest(path)
    assert (h2, r2, hash2) == (header, records, h)
    first = json.loads(content.splitlines()[0])
    assert first['header']['format'] == 'spn_mm.eval_manifest'

    rep = verify_manifest(path, img_root, mask_root)
    assert rep['ok'] and rep['manifest_hash'] == h
    # a different size gives different measured ratios -> caught
    header64 = dict(header, size=[32, 32])
    write_manifest(str(tmp_path / 'm32.jsonl'), header64, records)
    rep = verify_manifest(str(tmp_path / 'm32.jsonl'), img_root, mask_root)
    assert not rep['ok'] and rep['ratio_mismatch']

    # truncated file is rejected
    with open(tmp_path / 'bad.jsonl', 'wb') as f:
        f.write(b'\n'.join(content.splitlines()[:5]) + b'\n')
    with pytest.raises(ValueError, match='num_images'):
        load_manifest(str(tmp_path / 'bad.jsonl'))
    with pytest.raises(FileNotFoundError, match='make_eval_manifest'):
        load_manifest(str(tmp_path / 'absent.jsonl'))


def _test_pipeline(size):
    return [
        dict(type='LoadImageFromFile', key='gt', channel_order='rgb'),
        dict(type='Resize', keys=['gt'], scale=(size, size), keep_ratio=False),
        dict(type='SPNLoadPairedMask'),
        dict(type='GetMaskedImage'),
        dict(
            type='PackInputs',
            meta_keys=[
                'mask_path', 'hole_ratio', 'bucket', 'manifest_hash',
                'manifest_idx'
            ]),
    ]


def test_manifest_dataset_and_pipeline(toy, tmp_path):
    init_default_scope('mmagic')
    root, imgs, masks = toy
    header, records = build_manifest(
        osp.join(root, 'imgs'),
        imgs,
        osp.join(root, 'masks'),
        masks,
        size=(64, 64),
        seed=3,
        dataset='toy')
    mhash = write_manifest(str(tmp_path / 'm.jsonl'), header, records)
    ds = DATASETS.build(
        dict(
            type='SPNManifestDataset',
            data_root=root,
            ann_file=str(tmp_path / 'm.jsonl'),
            data_prefix=dict(gt='imgs', mask='masks'),
            pipeline=_test_pipeline(64)))
    assert len(ds) == 12
    meta = ds.metainfo
    assert meta['manifest_hash'] == mhash
    assert meta['manifest_size'] == (64, 64)
    assert meta['dataset_name'] == 'toy'
    info = ds.get_data_info(5)
    assert info['gt_path'] == osp.join(root, 'imgs', records[5]['img'])
    assert info['mask_path'] == osp.join(root, 'masks', records[5]['mask'])
    assert info['bucket'] == records[5]['bucket']
    assert info['manifest_hash'] == mhash
    # mask_root overrides data_prefix['mask'] and is not joined with root
    ds2 = DATASETS.build(
        dict(
            type='SPNManifestDataset',
            data_root=root,
            ann_file=str(tmp_path / 'm.jsonl'),
            data_prefix=dict(gt='imgs'),
            mask_root=osp.join(root, 'masks'),
            indices=3,
            pipeline=_test_pipeline(64)))
    assert len(ds2) == 3
    assert ds2.get_data_info(1)['mask_path'] == info['mask_path'].replace(
        records[5]['mask'], records[1]['mask'])

    sample = ds[5]
    dsamp = sample['data_samples']
    assert sample['inputs'].shape == (3, 64, 64)
    assert dsamp.gt_img.shape == (3, 64, 64)
    assert dsamp.mask.shape == (1, 64, 64)
    assert float(dsamp.mask.float().mean()) == records[5]['hole_ratio']
    assert dsamp.metainfo['manifest_hash'] == mhash
    assert dsamp.metainfo['bucket'] == records[5]['bucket']
    assert dsamp.metainfo['mask_path'] == info['mask_path']
    assert dsamp.metainfo['gt_channel_order'] == 'rgb'

    # test-time channel order through mmagic's DataPreprocessor: gt_img is
    # converted to BGR and destruct() returns BGR too, so they match.
    pre = MODELS.build(
        dict(type='DataPreprocessor', mean=[127.5], std=[127.5]))
    data = pre(pseudo_collate([ds[0], ds[1]]), False)
    samples = data['data_samples']
    assert samples.metainfo['gt_img_output_channel_order'] == ['BGR', 'BGR']
    restored = pre.destruct(data['inputs'], samples)
    valid = 1 - samples.mask.float()
    assert torch.equal(restored * valid, samples.gt_img.float() * valid)
    rgb = torch.from_numpy(photo(0, (90, 120))).float()
    assert samples.gt_img.dtype == torch.uint8
    # BGR: channel 0 of gt_img is the blue channel of the RGB photograph
    ch0 = float(samples.gt_img[0, 0].float().mean())
    assert abs(ch0 - float(rgb[..., 2].mean())) < 3
    assert abs(ch0 - float(rgb[..., 0].mean())) > 10
