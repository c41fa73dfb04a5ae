# Ablation, paper Table 3 row 2 (Paris StreetView, deterministic): priors at
# 64x64 and 128x128 (teacher layer1 76 ch, layer2 152 ch); the 256 generator
# level uses the 128 prior nearest-up-sampled.
_base_ = ['../spn_paris.py']

model = dict(
    encdec=dict(prior_learner=dict(num_scales=2, head_channels=[76, 152])),
    teacher=dict(num_scales=2))
