# Reduced-width probabilistic SPN for CPU tests (64x64) with the edge teacher
# and random-weight VGG (allow_random: tests only).
_base_ = [
    '../../configs/_base_/models/spn_prob.py',
    '../../configs/_base_/default_runtime.py'
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
            base_channels=8, num_middle_blocks=1, spade_hidden_channels=8),
        variational=dict(
            in_channels=32, mid_channels=16, latent_channels=8,
            out_channels=32)),
    disc=dict(base_channels=8),
    teacher=dict(_delete_=True, type='EdgeTeacher', num_levels=3),
    vgg=dict(vgg_path=None, allow_random=True),
    test_cfg=dict(num_samples=2))
