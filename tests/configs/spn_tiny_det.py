# Reduced-width deterministic SPN for CPU tests (64x64, few channels) with the
# weight-free edge teacher. Same structure as configs/_base_/models/spn_det.py.
_base_ = [
    '../../configs/_base_/models/spn_det.py',
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
            base_channels=8, num_middle_blocks=1, spade_hidden_channels=8)),
    disc=dict(base_channels=8),
    teacher=dict(_delete_=True, type='EdgeTeacher', num_levels=3))
