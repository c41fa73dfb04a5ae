# Iteration-based SPN schedule for datasets without official epoch counts
# (Places2, CelebA): lr 1e-4, x0.1 for the last quarter. The numbers are OUR
# assumption (configs/README.md "Training schedules"); each config sets
# max_iters and the milestone.
_base_ = ['./spn_adam.py']

param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[750000], gamma=0.1)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1000000,
                 val_interval=10000)
