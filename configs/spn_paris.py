# Deterministic SPN on Paris StreetView (paper Sec. 4 / Table 1), the
# authors' training code and schedule (configs/README.md): 75 epochs
# over the full training list (the official det dataset's `__len__ = 100` is
# a debugging leftover, configs/README.md), lr 1e-4 for epochs 1-50 and 1e-5
# from epoch 51 (G and D), prior loss for epochs 1-70 only, batch 4 per GPU
# x 2 GPUs. The start-up log converts the epochs to iterations.
_base_ = [
    './_base_/models/spn_det.py', './_base_/datasets/paris_streetview.py',
    './_base_/schedules/spn_epochs.py', './_base_/default_runtime.py'
]

model = dict(
    # local ASL TResNet-L (OpenImages) weights; needed for training only
    teacher=dict(checkpoint='checkpoints/asl_tresnet_l_openimages.pth'))
train_cfg = dict(max_epochs=75)
train_dataloader = {{_base_.epoch_train_loader}}
default_hooks = dict(
    prior_loss=dict(until_epoch=70),
    checkpoint=dict(by_epoch=True, interval=1))
log_processor = dict(by_epoch=True)
