# CelebA-HQ (30,000 faces, 1024x1024) for SPN, resized to 256x256 (bilinear;
# the official probabilistic test script resized with nearest instead --
# set test_dataloader.dataset.pipeline.1.interpolation='nearest' to mimic it).
# No official split was published: use your own lists, or make a seeded one
# with tools/dataset_converters/split_celebahq.py (~27,000 / ~2,800).
# Numbers are NOT comparable across different splits; report the split seed.
# Layout and preparation: docs/datasets.md#celeba-hq.
#   train: meta/train.txt      test: meta/test.txt -> eval_manifest_seed0.jsonl
# Pipelines, loaders and mask options: spn_inpainting.py.
_base_ = ['./spn_inpainting.py']

dataset_name = 'celebahq'
data_root = 'data/celebahq'

train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='meta/train.txt',
        data_prefix=dict(gt='CelebA-HQ-img')))
test_dataloader = dict(
    dataset=dict(
        dataset_name=dataset_name,
        data_root=data_root,
        data_prefix=dict(gt='CelebA-HQ-img')))
val_dataloader = dict(
    dataset=dict(
        dataset_name=dataset_name,
        data_root=data_root,
        data_prefix=dict(gt='CelebA-HQ-img')))
