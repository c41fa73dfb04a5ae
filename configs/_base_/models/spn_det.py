# Deterministic SPN exactly as the authors' training code
# (configs/README.md): official generator (50,702,643 params incl. distillation heads) and
# D (2,763,776 params, spectral norm, no biases). G loss =
#   1 * nsgan(D(pred01)) + 10 * mean(|pred01 - gt01| (1 + 2M))
#   + FM_w * sum_l mean(|p_l - t_l| (1 + 3M_l))
# on [0, 1] images; D sees [0, 1] images (real gt01, fake = raw pred01).
# The paper text's delta=4 (1 + 4M) is configs/paper_weights/ (README there).
_base_ = ['../teachers/tresnet_l.py']

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
    teacher={{_base_.asl_tresnet_l_teacher}},
    # official nsgan: BCE on sigmoid(D) == mmagic 'vanilla' on logits
    loss_gan=dict(type='GANLoss', gan_type='vanilla', loss_weight=1.0),
    loss_rec=dict(type='MaskWeightedL1Loss', loss_weight=10.0, hole_weight=2.0),
    loss_prior=dict(type='PriorDistillationLoss', loss_weight=1.0, alpha=3.0),
    disc_input_range=(0., 1.),  # official: D sees [0, 1] images
    train_cfg=dict(
        disc_step=1,
        disc_input='raw'),  # official: D sees the raw prediction
    test_cfg=dict(num_samples=1))

# The paper text's reconstruction weight delta=4, mean(|pred - gt| (1 + 4M))
# (Eq. 10), for configs/paper_weights/ (spn_prob.py adds its loss forms).
paper_text_losses = dict(loss_rec=dict(hole_weight=4.0))
