# Teacher ablation, paper Fig. 9 "SPN w/ rand" (Paris StreetView,
# deterministic): the ASL teacher's architecture (TResNet-L cut after layer2,
# same taps, [76, 76, 152]) with random weights drawn from `init_seed`, so
# the targets are identical after a resume
# (`rand_tresnet_l_teacher` of configs/_base_/teachers/tresnet_l.py, a base of
# spn_paris.py). No weights to supply.
_base_ = ['../spn_paris.py']

model = dict(
    encdec=dict(prior_learner=dict(head_channels=[76, 76, 152])),
    teacher=dict(_base_.rand_tresnet_l_teacher, _delete_=True))
