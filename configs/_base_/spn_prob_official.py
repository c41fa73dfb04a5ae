# The authors' probabilistic recipe without the data (model, epoch schedule,
# runtime): 70 epochs, lr 1e-4 for epochs 1-50 and 1e-5 from epoch 51,
# prior loss for epochs 1-60 only (the authors' prob loop hard-codes
# `epoch > 59` for every dataset). A dataset config adds the data, the epoch
# loader (batch 4 per GPU x 2 GPUs) and the nearest test resize of the
# authors' prob test script.
_base_ = [
    './models/spn_prob.py', './schedules/spn_epochs.py', './default_runtime.py'
]

model = dict(
    # local ASL TResNet-L (OpenImages) weights; needed for training only
    teacher=dict(checkpoint='checkpoints/asl_tresnet_l_openimages.pth'))
train_cfg = dict(max_epochs=70)
default_hooks = dict(
    prior_loss=dict(until_epoch=60),
    checkpoint=dict(by_epoch=True, interval=1))
log_processor = dict(by_epoch=True)
