# Probabilistic SPN (paper Sec. 3.1.2, Eq. 15): variational prior between
# S_enc^L and S_prior^L, 2 samples per input in training, hinge D with
# instance norm, feature matching + VGG19 perceptual + diversity + KL.
# Generator 68,512,883 params, D 2,763,841. Paper weights: lambda3=10 (D
# feature matching + perceptual), lambda4=1 (diversity), lambda5=0.05 (KL).
# VGG19 weights load from a LOCAL torchvision vgg19 file: set
# model.loss_percep.vgg_path and model.loss_diversity.vgg_path (one frozen
# VGG is shared by both losses; it is not saved in checkpoints).
_base_ = ['../teachers/asl_tresnet_l.py']

vgg_path = 'checkpoints/vgg19-dcbb9e9d.pth'

model = dict(
    type='SPNInpaintor',
    data_preprocessor=dict(type='DataPreprocessor', mean=[127.5], std=[127.5]),
    encdec=dict(
        type='SPNGenerator',
        prior_learner=dict(
            type='SemanticPriorLearner',
            num_scales=3,
            head_channels=[76, 76, 152]),
        image_generator=dict(
            type='SPADEGenerator',
            num_middle_blocks=8,
            fusion='spade',
            cap_spade_hidden=True),  # decoder.3 SPADE hidden width 64
        variational=dict(type='VariationalPrior', num_samples=2)),
    disc=dict(type='SPNProbDiscriminator', in_channels=3),
    teacher={{_base_.teacher}},
    loss_gan=dict(type='GANLoss', gan_type='hinge', loss_weight=1.0),
    loss_rec=dict(type='MaskWeightedL1Loss', loss_weight=10.0, hole_weight=4.0),
    loss_prior=dict(type='PriorDistillationLoss', loss_weight=1.0, alpha=3.0),
    loss_kl=dict(type='GaussianKLLoss', loss_weight=0.05,
                 direction='standard'),
    loss_fm=dict(type='DiscFeatureMatchingLoss', loss_weight=10.0),
    loss_percep=dict(
        type='SPNPerceptualLoss', loss_weight=10.0, vgg_path=vgg_path),
    loss_diversity=dict(
        type='PerceptualDiversityLoss', loss_weight=1.0, form='paper',
        vgg_path=vgg_path),
    train_cfg=dict(
        num_samples=2,
        disc_step=1,
        disc_input='raw',
        prior_loss_until_iter=None),
    # pluralistic evaluation: 5 seeded samples per image (per-image seeds)
    test_cfg=dict(num_samples=5, seed=2022, sample='random'))
