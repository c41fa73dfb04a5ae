# Deterministic SPN (paper Sec. 3.1.1 + 3.2, Eq. 12), official generator
# (50,702,643 params incl. distillation heads) and D (2,763,776 params).
# Loss weights follow the PAPER (lambda1=10, lambda2=1, delta=4, alpha=3);
# the official code differs in the reconstruction weight (1+2M): set
# model.loss_rec.hole_weight=2 to reproduce it (configs/README.md).
_base_ = ['../teachers/asl_tresnet_l.py']

model = dict(
    type='SPNInpaintor',
    data_preprocessor=dict(type='DataPreprocessor', mean=[127.5], std=[127.5]),
    encdec=dict(
        type='SPNGenerator',
        prior_learner=dict(
            type='SemanticPriorLearner',
            num_scales=3,
            head_channels=[76, 76, 152]),  # = teacher tap widths
        image_generator=dict(
            type='SPADEGenerator', num_middle_blocks=8, fusion='spade')),
    disc=dict(type='SPNPatchDiscriminator', in_channels=3, use_sigmoid=False),
    teacher={{_base_.teacher}},
    # official nsgan: BCE on sigmoid(D) == mmagic 'vanilla' on logits
    loss_gan=dict(type='GANLoss', gan_type='vanilla', loss_weight=1.0),
    loss_rec=dict(type='MaskWeightedL1Loss', loss_weight=10.0, hole_weight=4.0),
    loss_prior=dict(type='PriorDistillationLoss', loss_weight=1.0, alpha=3.0),
    train_cfg=dict(
        num_samples=1,
        disc_step=1,
        disc_input='raw',  # official: D sees the raw prediction
        prior_loss_until_iter=None),
    test_cfg=dict(num_samples=1))
