# Ablation, paper Fig. 7 "w/o ASL" (Paris StreetView, deterministic): no
# pretext teacher and no prior distillation loss. The prior learner is still
# built and trained end-to-end through the image losses; its distillation
# heads are then unused (they get no gradient), hence DDP's
# find_unused_parameters.
_base_ = ['../spn_paris.py']

model = dict(teacher=None, loss_prior=None)
model_wrapper_cfg = dict(find_unused_parameters=True)
