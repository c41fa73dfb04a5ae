# Mixing example (a): SPN's semantic prior learner + prior distillation loss
# inside mmagic's AOT-GAN (Zeng et al., TVCG 2022), trained on Places2 at 256
# with SPN's data pipeline, teacher and optimiser recipe.
#
# * generator: PriorGuidedEncDec = SPN SemanticPriorLearner (official width,
#   3 distilled scales, heads = ASL TResNet-L taps [76, 76, 152]) + mmagic's
#   AOTEncoderDecoder (8 AOT blocks). The coarsest prior S^L (256 ch, H/4) is
#   projected by a 1x1 conv and ADDED to the AOT encoder output (256 ch, H/4),
#   i.e. to the input of the AOT-block bottleneck.
# * inpaintor: PriorGuidedAOTInpaintor = mmagic AOTInpaintor (soft-mask
#   PatchGAN + smgan loss on the composite, L1 on the raw output) + the frozen
#   teacher and PriorDistillationLoss, logged as `loss_prior`.
# * mmagic's PerceptualLoss (AOT-GAN's perceptual + style terms) always
#   downloads VGG19 when built, so it is left out here.
_base_ = [
    '../_base_/teachers/tresnet_l.py', '../_base_/datasets/places2.py',
    '../_base_/schedules/spn_iters.py', '../_base_/default_runtime.py'
]

# the mixing classes live in spn_mm.models.editors.spn_mixing
custom_imports = dict(
    imports=['spn_mm', 'spn_mm.models.editors.spn_mixing'],
    allow_failed_imports=False)

max_iters = 1000000
model = dict(
    type='PriorGuidedAOTInpaintor',
    data_preprocessor=dict(type='DataPreprocessor', mean=[127.5], std=[127.5]),
    encdec=dict(
        type='PriorGuidedEncDec',
        host=dict(
            type='AOTEncoderDecoder',
            encoder=dict(type='AOTEncoder'),
            decoder=dict(type='AOTDecoder'),
            dilation_neck=dict(
                type='AOTBlockNeck',
                dilation_rates=(1, 2, 4, 8),
                num_aotblock=8)),
        prior_learner=dict(
            type='SemanticPriorLearner',
            num_scales=3,
            head_channels=[76, 76, 152]),
        fuse_mode='add',
        fuse_module='encoder',
        fuse_channels=256),
    disc=dict(
        type='SoftMaskPatchDiscriminator',
        in_channels=3,
        base_channels=64,
        num_conv=3,
        with_spectral_norm=True),
    loss_gan=dict(type='GANLoss', gan_type='smgan', loss_weight=0.01),
    loss_l1_valid=dict(type='L1Loss', loss_weight=1.),
    # local ASL TResNet-L (OpenImages) weights; needed for training only
    teacher=dict(
        _base_.asl_tresnet_l_teacher, checkpoint='checkpoints/asl_tresnet_l_openimages.pth'),
    loss_prior=dict(type='PriorDistillationLoss', loss_weight=1.0, alpha=3.0),
    train_cfg=dict(disc_step=1, start_iter=0))

param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[750000], gamma=0.1)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=10000)
train_dataloader = dict(batch_size=4)
default_hooks = dict(checkpoint=dict(interval=10000))
