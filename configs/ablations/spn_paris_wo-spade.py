# Ablation, paper Fig. 7 "w/o SPADE" (Paris StreetView, deterministic): every
# SPADE-conditioned block of the image generator receives
# concat(features, prior) instead (F_dec^L = concat(F_enc^L, S_prior^L),
# Sec. 4.4.1) and is a plain residual block with a learned shortcut.
_base_ = ['../spn_paris.py']

model = dict(encdec=dict(image_generator=dict(fusion='concat')))
