# One teacher variant, selected by name: `model.teacher = dict(
# _base_.spn_prior_places2_teacher, _delete_=True)` (every teacher base has its own
# variable, so several can be bases of one config).
# Table 5 "w/ S_prior^L": the pre-head prior pyramid of an SPN model
# pre-trained on Places2 as distillation target (channels 64/128/256 for the
# official learner). The learner sees the full image with an all-zero mask
# at 2x (nearest). Weights: a (deterministic) spn_mm SPN checkpoint; the
# learner's keys are selected by `checkpoint_prefix`.
spn_prior_places2_teacher = dict(
    type='SPNPriorTeacher',
    learner=dict(type='SemanticPriorLearner'),
    target='priors',
    checkpoint=None,  # e.g. 'work_dirs/spn_places2/iter_xxx.pth'
    checkpoint_key='model.teacher.checkpoint',
    checkpoint_prefix='generator.prior_learner.')
