# Ablation, paper Table 4 row 1 (Paris StreetView, deterministic):
# 4 SPADE ResBlocks at the smallest scale of the image generator.
# Generator parameters (learner + heads + image generator): 38,898,995.
_base_ = ['../spn_paris.py']

model = dict(encdec=dict(image_generator=dict(num_middle_blocks=4)))
