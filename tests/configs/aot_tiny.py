# A tiny mmagic AOT-GAN (64x64, few channels) used by the Foundation tests: it
# exercises mmagic's own inpaintor, SoftMaskPatchDiscriminator (mmagic#2109
# init crash, fixed at `import spn_mm`) and the Runner on CPU.
_base_ = ['../../configs/_base_/default_runtime.py', './tiny_data.py']

model = dict(
    type='AOTInpaintor',
    data_preprocessor=dict(type='DataPreprocessor', mean=[127.5], std=[127.5]),
    encdec=dict(
        type='AOTEncoderDecoder',
        encoder=dict(type='AOTEncoder', in_channels=4, mid_channels=8,
                     out_channels=16),
        decoder=dict(type='AOTDecoder', in_channels=16, mid_channels=8),
        dilation_neck=dict(
            type='AOTBlockNeck', in_channels=16, dilation_rates=(1, 2, 4, 8),
            num_aotblock=1)),
    disc=dict(
        type='SoftMaskPatchDiscriminator',
        in_channels=3,
        base_channels=8,
        num_conv=2,
        with_spectral_norm=True),
    loss_gan=dict(type='GANLoss', gan_type='smgan', loss_weight=0.01),
    loss_l1_valid=dict(type='L1Loss', loss_weight=1.),
    train_cfg=dict(disc_step=1, start_iter=0))

train_dataloader = {{_base_.tiny_train_dataloader}}
val_dataloader = {{_base_.tiny_val_dataloader}}
test_dataloader = val_dataloader
val_evaluator = {{_base_.tiny_evaluator}}
test_evaluator = val_evaluator

train_cfg = dict(type='IterBasedTrainLoop', max_iters=4, val_interval=4)
val_cfg = dict(type='MultiValLoop')
test_cfg = dict(type='MultiTestLoop')

optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(type='OptimWrapper',
                   optimizer=dict(type='Adam', lr=1e-4, betas=(0.0, 0.9))),
    disc=dict(type='OptimWrapper',
              optimizer=dict(type='Adam', lr=1e-4, betas=(0.0, 0.9))))

default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=2, max_keep_ckpts=3))
