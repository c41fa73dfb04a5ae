# CelebA (aligned & cropped, 178x218) for SPN. Paper preprocessing: centre
# square crop (178x178) then resize to 256x256 (bilinear).
# Layout and preparation: docs/datasets.md#celeba.
#   train: the official training partition (162,770 images, meta/train.txt)
#   test : the paper's first 12,000 images of the official test partition,
#          each paired with a fixed NVIDIA mask by
#          meta/eval_manifest_seed0.jsonl (make_eval_manifest.py)
# Pipelines as spn_inpainting.py plus a centre square crop (before the
# teacher view, as official); the training mask transform is at pipeline
# index 4 here.
_base_ = ['./spn_inpainting.py']

dataset_name = 'celeba'
data_root = 'data/celeba'

train_pipeline = [
    dict(type='LoadImageFromFile', key='gt', channel_order='rgb'),
    dict(type='CenterCropLongEdge', keys=['gt']),  # centre square crop
    dict(type='SPNTeacherView', scale=(512, 512)),
    dict(type='Resize', keys=['gt'], scale=(256, 256), keep_ratio=False),
    dict(type='SPNIrregularMask', source='auto',
         mask_root={{_base_.mask_root}}, mask_list=None,
         ratio_range=(0.01, 0.6), flip_ratio=0.),
    dict(type='Flip', keys=['gt', 'teacher_img', 'mask'], flip_ratio=0.5,
         direction='horizontal'),
    dict(type='GetMaskedImage'),
    dict(type='PackInputs', data_keys=['teacher_img']),
]
test_pipeline = [
    dict(type='LoadImageFromFile', key='gt', channel_order='rgb'),
    dict(type='CenterCropLongEdge', keys=['gt']),  # centre square crop
    dict(type='Resize', keys=['gt'], scale=(256, 256), keep_ratio=False),
    dict(type='SPNLoadPairedMask'),
    dict(type='GetMaskedImage'),
    dict(type='PackInputs', meta_keys={{_base_.test_meta_keys}}),
]

train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='meta/train.txt',
        data_prefix=dict(gt='img_align_celeba'),
        pipeline=train_pipeline))
test_dataloader = dict(
    dataset=dict(
        dataset_name=dataset_name,
        data_root=data_root,
        data_prefix=dict(gt='img_align_celeba'),
        pipeline=test_pipeline))
val_dataloader = dict(
    dataset=dict(
        dataset_name=dataset_name,
        data_root=data_root,
        data_prefix=dict(gt='img_align_celeba'),
        pipeline=test_pipeline))
