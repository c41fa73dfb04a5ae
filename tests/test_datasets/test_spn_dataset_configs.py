"""Every dataset `_base_` config builds its datasets on a tiny folder in the
documented layout (docs/datasets.md) and runs its pipelines on one sample."""
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from spn_mm.registry import DATASETS, METRICS
from test_datasets.spn_data_fixtures import make_all_layouts
from utils import load_script

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG_DIR = osp.join(REPO, 'configs', '_base_', 'datasets')
TOOLS = osp.join(REPO, 'tools', 'dataset_converters')
MASKS = 'data/irregular_mask/testing_mask_dataset'


def load_tool(name):
    return load_script(osp.join(TOOLS, f'{name}.py'), name)


@pytest.fixture(scope='module')
def layouts(tmp_path_factory):
    """All layouts + lists + manifests, prepared with the tools."""
    root = str(tmp_path_factory.mktemp('layouts'))
    make_all_layouts(root)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        lists = load_tool('build_file_lists')
        split = load_tool('split_celebahq')
        manifest = load_tool('make_eval_manifest')
        assert lists.main(
            ['places2', '--root', 'data/places2', '--num-test', '4']) == 0
        assert lists.main(['celeba', '--root', 'data/celeba']) == 0
        assert lists.main(['paris', '--root', 'data/paris_streetview']) == 0
        assert lists.main(['celebahq', '--root', 'data/celebahq']) == 0
        assert split.main(
            ['--root', 'data/celebahq', '--num-test', '3', '--seed', '0']) == 0
        jobs = {
            'places2': ('val_256', 'meta/test_first4.txt'),
            'celeba': ('img_align_celeba', 'meta/test_first12000.txt'),
            'paris_streetview': ('paris_eval_gt', 'meta/test.txt'),
            'celebahq': ('CelebA-HQ-img', 'meta/test.txt'),
        }
        for name, (img_dir, img_list) in jobs.items():
            d = f'data/{name}'
            assert manifest.main([
                '--img-root', f'{d}/{img_dir}', '--img-list',
                f'{d}/{img_list}', '--mask-root', MASKS, '--size', '256',
                '--seed', '0', '--dataset', name, '--out',
                f'{d}/meta/eval_manifest_seed0.jsonl'
            ]) == 0
        yield root
    finally:
        os.chdir(cwd)


def test_file_lists(layouts):

    def read(p):
        with open(osp.join(layouts, p)) as f:
            return f.read().split()

    assert read('data/places2/meta/train.txt') == [
        'a/airfield/00000001.jpg', 'a/airfield/00000002.jpg',
        'b/bakery/00000001.jpg'
    ]
    assert read('data/places2/meta/test_first4.txt') == [
        f'Places365_val_{i:08d}.jpg' for i in range(1, 5)
    ]
    assert read('data/celeba/meta/train.txt') == [
        f'{i:06d}.jpg' for i in range(1, 5)
    ]
    assert read('data/celeba/meta/test.txt') == [
        '000006.jpg', '000007.jpg', '000008.jpg'
    ]
    assert len(read('data/paris_streetview/meta/test.txt')) == 4
    train = read('data/celebahq/meta/train.txt')
    test = read('data/celebahq/meta/test.txt')
    assert len(train) == 7 and len(test) == 3
    assert not set(train) & set(test)
    assert sorted(train + test) == sorted(read('data/celebahq/meta/all.txt'))


@pytest.mark.parametrize('name,n_test', [('places2', 4), ('celeba', 3),
                                         ('paris_streetview', 4),
                                         ('celebahq', 3)])
def test_dataset_config_builds_and_runs(layouts, name, n_test, monkeypatch):
    monkeypatch.chdir(layouts)
    init_default_scope('mmagic')
    cfg = Config.fromfile(osp.join(CFG_DIR, f'{name}.py'))
    assert cfg.data_root == f'data/{name}'
    assert cfg.train_dataloader.batch_size == 4
    assert cfg.train_dataloader.sampler.type == 'SeededInfiniteSampler'
    for split in ('val', 'test'):
        loader = cfg[f'{split}_dataloader']
        assert loader.sampler == dict(type='DefaultSampler', shuffle=False)
        assert loader.get('drop_last', False) is False
    assert cfg.val_cfg.type == 'MultiValLoop'
    assert cfg.test_cfg.type == 'MultiTestLoop'

    # training side: RGB, 256x256, a binary mask from the NVIDIA set
    train = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(train) >= 3
    out = train[0]
    assert out['inputs'].shape == (3, 256, 256)
    ds = out['data_samples']
    assert ds.gt_img.shape == (3, 256, 256) and ds.mask.shape == (1, 256, 256)
    assert set(np.unique(ds.mask.numpy())) <= {0, 1}
    assert ds.metainfo['gt_channel_order'] == 'rgb'
    mask_t = [
        t for t in train.pipeline.transforms
        if type(t).__name__ == 'SPNIrregularMask'
    ][0]
    assert mask_t.source == 'set'  # the NVIDIA-layout masks are present

    # test side: the manifest pipeline on one sample
    test = DATASETS.build(cfg.test_dataloader.dataset)
    assert len(test) == n_test
    assert len(test.metainfo['manifest_hash']) == 40
    s = test[0]
    assert s['inputs'].shape == (3, 256, 256)
    meta = s['data_samples'].metainfo
    assert meta['manifest_hash'] == test.metainfo['manifest_hash']
    assert float(s['data_samples'].mask.float().mean()) == meta['hole_ratio']
    # masked pixels are exactly GetMaskedImage's 127.5
    m = s['data_samples'].mask.bool()[0]
    assert bool((s['inputs'][:, m] == 127.5).all())
    val = DATASETS.build(cfg.val_dataloader.dataset)
    assert len(val) == n_test

    # evaluators build (FID off: no Inception weights in the test env)
    metric_cfg = dict(cfg.test_evaluator.metrics[0])
    assert metric_cfg['type'] == 'SPNInpaintingMetric'
    with pytest.raises(FileNotFoundError, match='inception_path'):
        METRICS.build(metric_cfg)
    METRICS.build(dict(metric_cfg, fid_cfg=None))
    METRICS.build(cfg.val_evaluator.metrics[0])


def test_celeba_is_centre_cropped(layouts, monkeypatch):
    """CelebA: centre square crop of the 178x218 image, then 256."""
    import cv2
    monkeypatch.chdir(layouts)
    init_default_scope('mmagic')
    cfg = Config.fromfile(osp.join(CFG_DIR, 'celeba.py'))
    test = DATASETS.build(cfg.test_dataloader.dataset)
    info = test.get_data_info(0)
    img = cv2.cvtColor(cv2.imread(info['gt_path']), cv2.COLOR_BGR2RGB)
    assert img.shape[:2] == (218, 178)
    off = (218 - 178) // 2
    ref = cv2.resize(
        img[off:off + 178], (256, 256), interpolation=cv2.INTER_LINEAR)
    got = test[0]['data_samples'].gt_img.permute(1, 2, 0).numpy()
    assert np.abs(got.astype(int) - ref.astype(int)).max() <= 1


def test_procedural_switch(layouts, monkeypatch):
    monkeypatch.chdir(layouts)
    init_default_scope('mmagic')
    cfg = Config.fromfile(osp.join(CFG_DIR, 'places2.py'))
    cfg.merge_from_dict(
        {'train_dataloader.dataset.pipeline.3.source': 'procedural'})
    train = DATASETS.build(cfg.train_dataloader.dataset)
    t = train.pipeline.transforms[3]
    assert type(t).__name__ == 'SPNIrregularMask'
    assert t.source == 'procedural'
    assert train[0]['data_samples'].mask.shape == (1, 256, 256)


def test_teacher_sees_the_original_photo_resized_to_512_and_flipped(
        layouts, monkeypatch):
    """Official teacher input: cv2.resize(original RGB, (512, 512)), flipped
    together with the 256 training image and the mask (configs/README.md);
    SPNInpaintor hands exactly that view (in [0, 1]) to the teacher."""
    import cv2
    import torch
    from mmagic.structures import DataSample
    from mmengine.optim import OptimWrapper, OptimWrapperDict

    from spn_mm.datasets import SampleKey
    from spn_mm.registry import MODELS
    monkeypatch.chdir(layouts)
    init_default_scope('mmagic')
    cfg = Config.fromfile(osp.join(CFG_DIR, 'paris_streetview.py'))
    train = DATASETS.build(cfg.train_dataloader.dataset)
    no_flip = cfg.train_dataloader.dataset.copy()
    no_flip.pipeline = [t for t in no_flip.pipeline if t.type != 'Flip']
    no_flip = DATASETS.build(no_flip)
    info = train.get_data_info(0)
    orig = cv2.cvtColor(cv2.imread(info['gt_path']), cv2.COLOR_BGR2RGB)
    assert orig.shape[:2] == (134, 234)  # not square, not 256
    view_ref = cv2.resize(orig, (512, 512))
    img_ref = cv2.resize(orig, (256, 256))
    flips, samples = set(), []
    for epoch in range(8):
        key = SampleKey(0, epoch, 2022)
        ds = train[key]['data_samples']
        view = ds.teacher_img.permute(1, 2, 0).numpy()
        img = ds.gt_img.permute(1, 2, 0).numpy()
        mask = ds.mask[0].numpy()
        mask_unflipped = no_flip[key]['data_samples'].mask[0].numpy()
        flipped = not np.array_equal(img, img_ref)
        if flipped:
            np.testing.assert_array_equal(img, img_ref[:, ::-1])
            np.testing.assert_array_equal(view, view_ref[:, ::-1])
            np.testing.assert_array_equal(mask, mask_unflipped[:, ::-1])
        else:
            np.testing.assert_array_equal(view, view_ref)
            np.testing.assert_array_equal(mask, mask_unflipped)
        flips.add(flipped)
        samples.append(ds)
    assert flips == {True, False}

    # the inpaintor feeds the packed view to the teacher
    tiny = Config.fromfile(
        osp.join(REPO, 'tests', 'configs', 'spn_tiny_det.py')).model
    torch.manual_seed(0)
    model = MODELS.build(tiny)
    seen = []
    extract = model.teacher.extract
    model.teacher.extract = lambda x, sizes: seen.append(x) or extract(
        x, sizes)
    batch = dict(
        inputs=[s.gt_img.float() for s in samples[:2]],
        data_samples=[
            DataSample(gt_img=s.gt_img.float(), mask=s.mask.float(),
                       teacher_img=s.teacher_img) for s in samples[:2]
        ])
    optims = OptimWrapperDict(
        generator=OptimWrapper(torch.optim.Adam(model.generator.parameters())),
        disc=OptimWrapper(torch.optim.Adam(model.disc.parameters())))
    logs = model.train_step(batch, optims)
    assert 'loss_prior' in logs
    (got, ) = seen
    expected = torch.stack([s.teacher_img for s in samples[:2]]).float() / 255
    assert torch.equal(got, expected)
