# Probabilistic SPN exactly as the authors' training code
# (configs/README.md): the deterministic model (spn_det.py) plus a
# variational prior between S_enc^L and S_prior^L, 2 samples per input in
# training, hinge D with instance norm. Generator 68,512,883 params, D
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
_base_ = ['./spn_det.py']

vgg_path = 'checkpoints/vgg19-dcbb9e9d.pth'

model = dict(
    encdec=dict(
        image_generator=dict(cap_spade_hidden=True),  # decoder.3 SPADE 64
        variational=dict(type='VariationalPrior', num_samples=2)),  # K train
    disc=dict(_delete_=True, type='SPNProbDiscriminator', in_channels=3),
    loss_gan=dict(gan_type='hinge'),
    loss_kl=dict(type='GaussianKLLoss', loss_weight=0.05,
                 direction='official'),
    loss_fm=dict(type='DiscFeatureMatchingLoss', loss_weight=10.0),
    loss_percep=dict(type='SPNPerceptualLoss', loss_weight=10.0),
    loss_diversity=dict(
        type='PerceptualDiversityLoss', loss_weight=1.0, form='official'),
    vgg=dict(type='SPNVGGFeatures', vgg_path=vgg_path),
    # pluralistic evaluation: 5 seeded samples per image (per-image seeds)
    test_cfg=dict(num_samples=5, seed=2022, sample='random'))

# The paper text's loss forms (configs/paper_weights/): delta=4 (Eq. 10),
# KL(q || N(0, I)) (Eq. 6), the Eq. 14 diversity and the Eq. 13 perceptual
# term with equal layer weights (1/K, K=5).
paper_text_losses = dict(
    loss_rec=dict(hole_weight=4.0),
    loss_kl=dict(direction='standard'),
    loss_diversity=dict(form='paper'),
    loss_percep=dict(
        layer_weights=dict(
            relu1_1=0.2, relu2_1=0.2, relu3_1=0.2, relu4_1=0.2,
            relu5_1=0.2)))
