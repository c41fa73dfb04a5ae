# Tiny-width copy of configs/mixing/aot-gan_spn-prior_places2.py for CPU
# tests on generated 64x64 data: same classes, reduced AOT host and prior
# learner, the weight-free edge teacher, 2 iterations.
_base_ = [
    '../../configs/mixing/aot-gan_spn-prior_places2.py',
    './tiny_data.py'
]

model = dict(
    encdec=dict(
        host=dict(
            encoder=dict(mid_channels=8, out_channels=16),
            decoder=dict(in_channels=16, mid_channels=8),
            dilation_neck=dict(in_channels=16, num_aotblock=1)),
        prior_learner=dict(
            base_channels=8,
            growth_channels=8,
            num_rdbs=2,
            num_rdb_layers=2,
            num_recon_blocks=1,
            head_channels=[1, 1, 1]),
        fuse_channels=16),
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
