# Ablation, paper Table 3 row 1 and Fig. 7 "w/o Prior Pyramid" (Paris
# StreetView, deterministic): only the coarsest prior S_prior^L (64x64 for a
# 256 input) is learned and distilled (TResNet-L layer2, 152 channels). It
# conditions every generator level; the 128 and 256 levels see it
# nearest-up-sampled. Learner and teacher scales must agree.
_base_ = ['../spn_paris.py']

model = dict(
    encdec=dict(prior_learner=dict(num_scales=1, head_channels=[152])),
    teacher=dict(num_scales=1))
