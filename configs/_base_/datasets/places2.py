# Places2 (Places365-Standard, "small" 256x256 images) for SPN.
# Layout and preparation: docs/datasets.md#places2.
#   train: the 1.8M Places365-Standard training images (meta/train.txt)
#   test : the paper's first 12,000 validation images, each paired with a
#          fixed NVIDIA mask by meta/eval_manifest_seed0.jsonl
#          (tools/dataset_converters/make_eval_manifest.py)
# Pipelines, loaders and mask options: spn_inpainting.py.
_base_ = ['./spn_inpainting.py']

dataset_name = 'places2'
data_root = 'data/places2'

train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='meta/train.txt',
        data_prefix=dict(gt='data_256')))
test_dataloader = dict(
    dataset=dict(
        dataset_name=dataset_name,
        data_root=data_root,
        data_prefix=dict(gt='val_256')))
val_dataloader = dict(
    dataset=dict(
        dataset_name=dataset_name,
        data_root=data_root,
        data_prefix=dict(gt='val_256')))
