# Ablation, paper Table 3 row 3 = SPN (Paris StreetView, deterministic): the
# full pyramid 64/128/256 (teacher layer2/layer1/stem, [76, 76, 152] fine ->
# coarse). Identical to configs/spn_paris.py; kept so the table has one
# config per row.
_base_ = ['../spn_paris.py']

model = dict(
    encdec=dict(prior_learner=dict(num_scales=3, head_channels=[76, 76, 152])),
    teacher=dict(num_scales=3))
