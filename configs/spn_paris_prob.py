# Probabilistic SPN on Paris StreetView (paper Sec. 4 / Table 2), the
# authors' training code and schedule: 70 epochs, lr 1e-4 for epochs 1-50
# and 1e-5 from epoch 51, prior loss for epochs 1-60 only (the authors'
# prob loop hard-codes `epoch > 59` for every dataset), batch 4 per GPU x 2
# GPUs, test images resized with nearest (their prob test script).
_base_ = [
    './_base_/models/spn_prob.py', './_base_/datasets/paris_streetview.py',
    './_base_/schedules/spn_epochs.py', './_base_/default_runtime.py'
]

model = dict(
    # local ASL TResNet-L (OpenImages) weights; needed for training only
    teacher=dict(checkpoint='checkpoints/asl_tresnet_l_openimages.pth'))
train_cfg = dict(max_epochs=70)
train_dataloader = dict(
    batch_size=4,
    drop_last=True,
    sampler=dict(type='SeededDefaultSampler', shuffle=True))
val_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline_nearest}}))
test_dataloader = dict(
    dataset=dict(pipeline={{_base_.test_pipeline_nearest}}))
default_hooks = dict(
    prior_loss=dict(until_epoch=60),
    checkpoint=dict(by_epoch=True, interval=1))
log_processor = dict(by_epoch=True)
