# Tiny-width copy of configs/mixing/spn_places2_smpatch-disc_lsgan.py for CPU
# tests on generated 64x64 data: SPN with mmagic's SoftMaskPatchDiscriminator
# and lsgan GANLoss, reduced widths, the weight-free edge teacher.
_base_ = [
    '../../configs/mixing/spn_places2_smpatch-disc_lsgan.py',
    './tiny_data.py'
]

model = dict(
    encdec=dict(
        prior_learner=dict(
            base_channels=8,
            growth_channels=8,
            num_rdbs=2,
            num_rdb_layers=2,
            num_recon_blocks=1,
            head_channels=[1, 1, 1]),
        image_generator=dict(
            base_channels=8, num_middle_blocks=1, spade_hidden_channels=8)),
    disc=dict(base_channels=8, num_conv=2),
    teacher=dict(_delete_=True, type='EdgeTeacher', num_levels=3))

train_dataloader = dict(_base_.tiny_train_dataloader, _delete_=True)
val_dataloader = dict(_base_.tiny_val_dataloader, _delete_=True)
test_dataloader = dict(_base_.tiny_val_dataloader, _delete_=True)
val_evaluator = _base_.tiny_evaluator
test_evaluator = _base_.tiny_evaluator
train_cfg = dict(max_iters=2, val_interval=2)
default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=2, max_keep_ckpts=1))
