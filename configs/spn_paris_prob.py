# Probabilistic SPN on Paris StreetView (paper Sec. 4 / Table 2), the authors'
# training code and schedule (configs/_base_/spn_prob_official.py), batch 4
# per GPU x 2 GPUs, test images resized with nearest (their prob test
# script).
_base_ = [
    './_base_/datasets/paris_streetview.py', './_base_/spn_prob_official.py'
]

train_dataloader = {{_base_.epoch_train_loader}}
val_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline_nearest}}))
test_dataloader = dict(
    dataset=dict(pipeline={{_base_.test_pipeline_nearest}}))
