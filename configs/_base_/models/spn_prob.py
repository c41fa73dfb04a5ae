# Probabilistic SPN exactly as the authors' training code
# (configs/README.md): variational prior between S_enc^L and S_prior^L, 2 samples per input
# in training, hinge D with instance norm. Generator 68,512,883 params, D
# 2,763,841. G loss on [0, 1] images (D sees [0, 1] too):
#   1 * hinge + 10 * L1(1 + 2M) + FM_w * prior + 0.05 * mean KL(N(0,I) || q)
#   + 1 / (sum_l L1(f1 M_l, f2 M_l) / mean(M_l) + 1e-5)
#   + 10 * VGG19(pred01, gt01) (no ImageNet normalisation)
#   + 10 * mean_l L1(D_feat(fake)_l, D_feat(real)_l) (real before the D step)
# The paper text's forms (1 + 4M, KL(q || N(0,I)), Eq. 14 diversity, Eq. 13
# perceptual with equal layer weights) are configs/paper_weights/.
# VGG19 weights load from a LOCAL torchvision vgg19 file: set
# model.vgg.vgg_path (model.vgg is the one VGG of the perceptual and
# diversity losses, run once per step for both; not saved in checkpoints).
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
        variational=dict(type='VariationalPrior', num_samples=2)),  # K train
    disc=dict(type='SPNProbDiscriminator', in_channels=3),
    teacher={{_base_.asl_tresnet_l_teacher}},
    loss_gan=dict(type='GANLoss', gan_type='hinge', loss_weight=1.0),
    loss_rec=dict(type='MaskWeightedL1Loss', loss_weight=10.0, hole_weight=2.0),
    loss_prior=dict(type='PriorDistillationLoss', loss_weight=1.0, alpha=3.0),
    loss_kl=dict(type='GaussianKLLoss', loss_weight=0.05,
                 direction='official'),
    loss_fm=dict(type='DiscFeatureMatchingLoss', loss_weight=10.0),
    loss_percep=dict(type='SPNPerceptualLoss', loss_weight=10.0),
    loss_diversity=dict(
        type='PerceptualDiversityLoss', loss_weight=1.0, form='official'),
    vgg=dict(type='SPNVGGFeatures', vgg_path=vgg_path),
    disc_input_range=(0., 1.),
    train_cfg=dict(
        disc_step=1,
        disc_input='raw'),
    # pluralistic evaluation: 5 seeded samples per image (per-image seeds)
    test_cfg=dict(num_samples=5, seed=2022, sample='random'))
