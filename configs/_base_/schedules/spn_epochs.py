# The authors' epoch schedule (configs/README.md): an epoch is one pass
# over the full training list; epochs 1-50 at lr 1e-4, from epoch 51 at 1e-5
# (G and D). prob: 70 epochs (the default here), det Paris: 75. The prior
# loss cut is default_hooks.prior_loss (PriorLossScheduleHook.until_epoch).
# The authors' epoch loader (batch 4 per GPU, the last partial batch
# dropped, a seeded shuffling sampler): `train_dataloader =
# {{_base_.epoch_train_loader}}` in the config.
_base_ = ['./spn_adam.py']

param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[50], gamma=0.1)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=70, val_interval=1)
epoch_train_loader = dict(
    batch_size=4,
    drop_last=True,
    sampler=dict(type='SeededDefaultSampler', shuffle=True))
