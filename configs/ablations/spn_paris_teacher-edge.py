# Teacher ablation, paper Fig. 8 / Fig. 9 "SPN w/ edge" (Paris StreetView,
# deterministic): Canny-like binary edge maps of the full image at every
# pyramid level (1 channel each) replace the ASL features
# (configs/_base_/teachers/edge_canny.py). No weights.
_base_ = ['../spn_paris.py', '../_base_/teachers/edge_canny.py']

model = dict(
    encdec=dict(prior_learner=dict(head_channels=[1, 1, 1])),
    teacher=dict(_base_.edge_canny_teacher, _delete_=True))
