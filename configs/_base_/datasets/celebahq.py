# Copyright (c) OpenMMLab. All rights reserved.
# CelebA-HQ (30,000 faces, 1024x1024) for SPN, resized to 256x256 (bilinear;
# the official probabilistic test script resized with nearest instead --
# set `Resize.interpolation='nearest'` in test_pipeline to mimic it).
# No official split was published: use your own lists, or make a seeded one
# with tools/dataset_converters/split_celebahq.py (~27,000 / ~2,800).
# Numbers are NOT comparable across different splits; report the split seed.
# Layout and preparation: docs/datasets.md#celeba-hq.
#   train: meta/train.txt      test: meta/test.txt -> eval_manifest_seed0.jsonl
# Training masks: pipeline index 2 (`SPNIrregularMask`, source='auto': the
# NVIDIA masks under `mask_root` when present, procedural otherwise), e.g.
#   --cfg-options train_dataloader.dataset.pipeline.2.source=procedural
# The paper trains and tests on the same 12k NVIDIA test masks (leakage); for
# the disjoint-mask protocol set
#   train_dataloader.dataset.pipeline.2.mask_list=<unused-masks list>
_base_ = ['./spn_eval.py']  # evaluators + MultiValLoop/MultiTestLoop

dataset_type = 'BasicImageDataset'
dataset_name = 'celebahq'
data_root = 'data/celebahq'
mask_root = 'data/irregular_mask/testing_mask_dataset'
img_size = 256

train_pipeline = [
    dict(type='LoadImageFromFile', key='gt', channel_order='rgb'),
    dict(
        type='Resize',
        keys=['gt'],
        scale=(img_size, img_size),
        keep_ratio=False),
    dict(
        type='SPNIrregularMask',
        source='auto',
        mask_root=mask_root,
        mask_list=None,
        ratio_range=(0.01, 0.6),
        flip_ratio=0.5),
    dict(type='Flip', keys=['gt'], flip_ratio=0.5, direction='horizontal'),
    dict(type='GetMaskedImage'),
    dict(type='PackInputs'),
]

# Deterministic manifest pipeline: image -> resize to the manifest size ->
# paired mask (binarised, nearest-resized, ratio checked) -> masked image.
test_pipeline = [
    dict(type='LoadImageFromFile', key='gt', channel_order='rgb'),
    dict(
        type='Resize',
        keys=['gt'],
        scale=(img_size, img_size),
        keep_ratio=False),
    dict(type='SPNLoadPairedMask'),
    dict(type='GetMaskedImage'),
    dict(
        type='PackInputs',
        meta_keys=[
            'mask_path', 'hole_ratio', 'bucket', 'manifest_hash',
            'manifest_idx'
        ]),
]

train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='meta/train.txt',
        data_prefix=dict(gt='CelebA-HQ-img'),
        filename_tmpl=dict(gt='{}'),
        pipeline=train_pipeline))

test_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='SPNManifestDataset',
        dataset_name=dataset_name,
        data_root=data_root,
        ann_file='meta/eval_manifest_seed0.jsonl',
        data_prefix=dict(gt='CelebA-HQ-img'),
        mask_root=mask_root,
        test_mode=True,
        pipeline=test_pipeline))

# Validation during training: the first 500 manifest pairs, no FID, nothing
# saved. (Selecting checkpoints on test pairs is what the official code does;
# make a separate manifest for a clean protocol.)
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='SPNManifestDataset',
        dataset_name=dataset_name,
        data_root=data_root,
        ann_file='meta/eval_manifest_seed0.jsonl',
        data_prefix=dict(gt='CelebA-HQ-img'),
        mask_root=mask_root,
        indices=500,
        test_mode=True,
        pipeline=test_pipeline))
