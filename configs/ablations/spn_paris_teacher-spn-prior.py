# Teacher ablation after paper Table 5 "w/ S_prior^L" (Paris StreetView,
# deterministic): the distillation targets are the pre-head prior pyramid
# (64@256, 128@128, 256@64) of the learner of an SPN trained on Places2
# (configs/spn_places2.py), fed the full image and an all-zero mask at 2x
# (configs/_base_/teachers/spn_prior_places2.py). The paper ran this on SPL
# (single scale); here the whole pyramid of a full SPN is distilled.
# Weights: a trained spn_places2 checkpoint (keys generator.prior_learner.*).
_base_ = ['../spn_paris.py', '../_base_/teachers/spn_prior_places2.py']

model = dict(
    encdec=dict(prior_learner=dict(head_channels=[64, 128, 256])),
    teacher=dict(_base_.spn_prior_places2_teacher, _delete_=True,
        checkpoint='checkpoints/spn_places2_det.pth'))
