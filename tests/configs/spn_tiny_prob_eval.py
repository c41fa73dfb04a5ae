# The reduced-width probabilistic SPN of spn_tiny_prob.py evaluated on a
# seeded manifest (64x64) by the pluralistic metric: K=2 seeded samples per
# input, best-of-K, mean-of-K, LPIPS diversity and FID per bucket. Tests set
# the data/mask roots and the local (random) weight files with --cfg-options:
#   test_dataloader.dataset.data_root=... test_dataloader.dataset.mask_root=...
#   test_evaluator.metrics.0.fid_cfg.inception_path=...
#   test_evaluator.metrics.0.lpips_cfg.backbone_path=...
_base_ = ['./spn_tiny_prob.py']

model = dict(test_cfg=dict(num_samples=2, seed=2022, sample='random'))

test_pipeline = [
    dict(type='LoadImageFromFile', key='gt', channel_order='rgb'),
    dict(type='Resize', keys=['gt'], scale=(64, 64), keep_ratio=False),
    dict(type='SPNLoadPairedMask'),
    dict(type='GetMaskedImage'),
    dict(
        type='PackInputs',
        meta_keys=[
            'mask_path', 'hole_ratio', 'bucket', 'manifest_hash',
            'manifest_idx'
        ]),
]
test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='SPNManifestDataset',
        dataset_name='tiny_prob',
        data_root='data/tiny_manifest',
        ann_file='meta/eval_manifest.jsonl',
        data_prefix=dict(gt='val'),
        mask_root='data/tiny_manifest/masks',
        test_mode=True,
        pipeline=test_pipeline))
test_evaluator = dict(
    type='Evaluator',
    metrics=[
        dict(
            type='SPNInpaintingMetric',
            compat='spn',
            fid_cfg=dict(inception_path='', use_cache=False),
            lpips_cfg=dict(backbone_path=''))
    ])
test_cfg = dict(type='MultiTestLoop')
