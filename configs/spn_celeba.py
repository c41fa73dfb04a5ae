# Deterministic SPN on CelebA (paper Sec. 4 / Table 1), the authors'
# training code (see spn_places2.py). No official CelebA epoch count: 800k
# iterations with x0.1 for the last quarter is OUR assumption
# (configs/README.md "Training schedules"). No prior-loss cut.
_base_ = [
    './_base_/models/spn_det.py', './_base_/datasets/celeba.py',
    './_base_/schedules/spn_iters.py', './_base_/default_runtime.py'
]

max_iters = 800000
model = dict(
    # local ASL TResNet-L (OpenImages) weights; needed for training only
    teacher=dict(checkpoint='checkpoints/asl_tresnet_l_openimages.pth'))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[600000], gamma=0.1)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=10000)
train_dataloader = dict(batch_size=4)
default_hooks = dict(checkpoint=dict(interval=10000))
