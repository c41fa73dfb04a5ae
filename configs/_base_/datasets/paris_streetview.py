# Paris StreetView for SPN: 14,900 training and 100 test photographs
# (936x537), resized to 256x256 ignoring the aspect ratio (paper and official
# code). Layout and preparation: docs/datasets.md#paris-streetview.
#   train: paris_train_original (meta/train.txt)
#   test : the 100 paris_eval_gt images, each paired with a fixed NVIDIA mask
#          by meta/eval_manifest_seed0.jsonl (make_eval_manifest.py)
# Pipelines, loaders and mask options: spn_inpainting.py. Validation uses all
# 100 manifest pairs.
_base_ = ['./spn_inpainting.py']

dataset_name = 'paris_streetview'
data_root = 'data/paris_streetview'

train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='meta/train.txt',
        data_prefix=dict(gt='paris_train_original')))
test_dataloader = dict(
    dataset=dict(
        dataset_name=dataset_name,
        data_root=data_root,
        data_prefix=dict(gt='paris_eval_gt')))
val_dataloader = dict(
    dataset=dict(
        indices=None,  # all 100 pairs
        dataset_name=dataset_name,
        data_root=data_root,
        data_prefix=dict(gt='paris_eval_gt')))
