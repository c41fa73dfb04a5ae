# Official optimisation recipe: Adam(betas=(0.0, 0.9)) for G and D, lr 1e-4,
# decayed x0.1 for the last quarter of training (each paper config sets
# max_iters and the milestone), 1 D step then 1 G step per iteration.
optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=1e-4, betas=(0.0, 0.9))),
    disc=dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=1e-4, betas=(0.0, 0.9))))

param_scheduler = [
    dict(
        type='MultiStepLR',
        by_epoch=False,
        milestones=[750000],
        gamma=0.1)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1000000,
                 val_interval=10000)
# global batch of the paper: 4 per GPU x 2 GPUs
auto_scale_lr = dict(enable=False, base_batch_size=8)
