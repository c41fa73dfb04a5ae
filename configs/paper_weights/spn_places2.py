# configs/spn_places2.py with the PAPER TEXT's weights instead of the authors'
# code (configs/README.md, "Official code vs paper text"): reconstruction
# hole weight delta=4, i.e. mean(|pred - gt| (1 + 4M)) (Eq. 10). Everything
# else is the official recipe.
_base_ = ['../spn_places2.py']

model = {{_base_.paper_text_losses}}
