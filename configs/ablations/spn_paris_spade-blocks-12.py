# Ablation, paper Table 4 row 3 (Paris StreetView, deterministic):
# 12 SPADE ResBlocks at the smallest scale of the image generator.
# Generator parameters (learner + heads + image generator): 62,506,291.
_base_ = ['../spn_paris.py']

model = dict(encdec=dict(image_generator=dict(num_middle_blocks=12)))
