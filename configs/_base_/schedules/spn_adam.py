# Official optimiser (configs/README.md): Adam(betas=(0.0, 0.9)) for G
# and D, lr 1e-4, no weight decay, no clipping; 1 D step then 1 G step per
# iteration. The schedule (loop, LR decay) comes from spn_iters.py (Places2,
# CelebA: no official epoch counts) or spn_epochs.py (the authors' epochs).
optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=1e-4, betas=(0.0, 0.9))),
    disc=dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=1e-4, betas=(0.0, 0.9))))
# global batch of the paper: 4 per GPU x 2 GPUs
auto_scale_lr = dict(enable=False, base_batch_size=8)
