# Tiny generated-data settings shared by the tiny test configs (64x64,
# tests/utils.make_tiny_dataset layout: train/, val/, val_masks/). Every key
# is `tiny_*` so this file can sit next to a full config in `_base_`; the
# tiny configs copy them over the full config's dataloaders/evaluators.
tiny_data_root = 'data/tiny'  # overridden by tests with --cfg-options
tiny_size = (64, 64)

tiny_train_pipeline = [
    dict(type='LoadImageFromFile', key='gt', channel_order='rgb'),
    dict(type='Resize', keys=['gt'], scale=tiny_size, keep_ratio=False),
    dict(
        type='SPNIrregularMask', source='procedural', ratio_range=(0.05, 0.5)),
    dict(
        type='Flip',
        keys=['gt', 'mask'],
        flip_ratio=0.5,
        direction='horizontal'),
    dict(type='GetMaskedImage'),
    dict(type='PackInputs'),
]
tiny_test_pipeline = [
    dict(type='LoadImageFromFile', key='gt', channel_order='rgb'),
    dict(type='Resize', keys=['gt'], scale=tiny_size, keep_ratio=False),
    dict(type='LoadMask', mask_mode='file'),
    dict(type='GetMaskedImage'),
    dict(type='PackInputs'),
]
tiny_train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='SeededInfiniteSampler', shuffle=True),
    dataset=dict(
        type='SPNImageDataset',
        data_root=tiny_data_root,
        data_prefix=dict(gt='train'),
        pipeline=tiny_train_pipeline))
tiny_val_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='SPNImageDataset',
        data_root=tiny_data_root,
        data_prefix=dict(gt='val', mask='val_masks'),
        filename_tmpl=dict(gt='{}', mask='{}'),
        test_mode=True,
        pipeline=tiny_test_pipeline))
tiny_evaluator = [
    dict(type='MAE', mask_key='mask', scaling=100),
    dict(type='PSNR'),
    dict(type='SSIM'),
]
