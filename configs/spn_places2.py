# Deterministic SPN on Places2 (paper Sec. 4 / Table 1), the authors'
# training code: losses and ranges of _base_/models/spn_det.py, Adam(0.0,
# 0.9), lr 1e-4 for G and D, batch 4 per GPU x 2 GPUs, teacher input =
# the photo resized to 512. The authors give no Places2 epoch count: 1M
# iterations with x0.1 for the last quarter is OUR assumption
# (configs/README.md "Training schedules"). No prior-loss cut (the official
# det cut applies to Paris only).
_base_ = [
    './_base_/models/spn_det.py', './_base_/datasets/places2.py',
    './_base_/schedules/spn_iters.py', './_base_/default_runtime.py'
]

max_iters = 1000000
model = dict(
    # local ASL TResNet-L (OpenImages) weights; needed for training only
    teacher=dict(checkpoint='checkpoints/asl_tresnet_l_openimages.pth'))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[750000], gamma=0.1)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=10000)
train_dataloader = dict(batch_size=4)
default_hooks = dict(checkpoint=dict(interval=10000))
