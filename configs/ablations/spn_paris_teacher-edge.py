# Teacher ablation, paper Fig. 8 / Fig. 9 "SPN w/ edge" (Paris StreetView,
# deterministic): Canny-like binary edge maps of the full image at every
# pyramid level (1 channel each) replace the ASL features, as in
# configs/_base_/teachers/edge_canny.py (restated: spn_paris.py already
# inherits the ASL teacher file). No weights.
_base_ = ['../spn_paris.py']

model = dict(
    encdec=dict(prior_learner=dict(head_channels=[1, 1, 1])),
    teacher=dict(
        _delete_=True,
        type='EdgeTeacher',
        num_levels=3,
        mode='canny',
        sigma=1.0,
        low_threshold=0.05,
        high_threshold=0.1))
