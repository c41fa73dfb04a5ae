# configs/spn_celebahq_prob.py with the PAPER TEXT's loss forms instead of the
# authors' code (configs/README.md, "Official code vs paper text"):
# delta=4 (Eq. 10), KL(q || N(0, I)) (Eq. 6), the diversity term of Eq. 14
# (1/L sum_l 1 / (||.||_1 + eps)) and the perceptual term of Eq. 13 with
# equal layer weights (1/K, K=5). Everything else is the official recipe.
_base_ = ['../spn_celebahq_prob.py']

model = {{_base_.paper_text_losses}}
