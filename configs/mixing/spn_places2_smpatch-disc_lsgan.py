# Mixing example (b): an mmagic discriminator and GAN loss inside SPN.
# configs/spn_places2.py with mmagic's SoftMaskPatchDiscriminator (AOT-GAN's
# spectral-norm PatchGAN; its init crash, mmagic#2109, is fixed at
# `import spn_mm`) and mmagic's GANLoss in least-squares form ('lsgan')
# instead of SPN's 5-layer PatchGAN + non-saturating loss. The discriminator
# returns a plain tensor, so SPNInpaintor uses its logits only (no feature
# matching, which the deterministic SPN does not use anyway). mmagic's
# discriminators expect mmagic's [-1, 1] images: disc_input_range=(-1, 1)
# (SPN's own discriminators see the official [0, 1]). Everything else
# (teacher, losses, schedule) is spn_places2's.
_base_ = ['../spn_places2.py']

model = dict(
    disc=dict(
        _delete_=True,
        type='SoftMaskPatchDiscriminator',
        in_channels=3,
        base_channels=64,
        num_conv=3,
        with_spectral_norm=True),
    loss_gan=dict(type='GANLoss', gan_type='lsgan', loss_weight=1.0),
    disc_input_range=(-1., 1.))
