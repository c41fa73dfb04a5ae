# SPN probabilistic SPN on celebahq — paper Sec. 4 / Table 2.
# Recipe: Adam(0.0, 0.9), lr 1e-4 for G and D, x0.1 for the last quarter
# (milestone 177000), batch 4 per GPU x 2 GPUs. Iteration count: see
# configs/README.md ("Training schedules").
_base_ = [
    './_base_/models/spn_prob.py', './_base_/datasets/celebahq.py',
    './_base_/schedules/spn_adam.py', './_base_/default_runtime.py'
]

max_iters = 236000
model = dict(
    # local ASL TResNet-L (OpenImages) weights; needed for training only
    teacher=dict(checkpoint='checkpoints/asl_tresnet_l_openimages.pth'),
    train_cfg=dict(prior_loss_until_iter=202000))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[177000], gamma=0.1)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=5000)
train_dataloader = dict(batch_size=4)
default_hooks = dict(checkpoint=dict(interval=5000))
