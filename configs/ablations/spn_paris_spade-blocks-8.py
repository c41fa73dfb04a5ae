# Ablation, paper Table 4 row 2 = SPN (Paris StreetView, deterministic;
# identical to configs/spn_paris.py):
# 8 SPADE ResBlocks at the smallest scale of the image generator.
# Generator parameters (learner + heads + image generator): 50,702,643.
_base_ = ['../spn_paris.py']

model = dict(encdec=dict(image_generator=dict(num_middle_blocks=8)))
