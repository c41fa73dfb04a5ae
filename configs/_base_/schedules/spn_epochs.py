# The authors' epoch schedule (configs/README.md): an epoch is one pass
# over the full training list; epochs 1-50 at lr 1e-4, from epoch 51 at 1e-5
# (G and D). prob: 70 epochs (the default here), det Paris: 75. The prior
# loss cut is default_hooks.prior_loss (PriorLossScheduleHook.until_epoch).
# Pair with an epoch sampler in the config's train_dataloader:
#   sampler=dict(type='SeededDefaultSampler', shuffle=True), drop_last=True
_base_ = ['./spn_adam.py']

param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[50], gamma=0.1)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=70, val_interval=1)
