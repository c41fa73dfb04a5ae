# Teacher ablation, paper Fig. 8 "HRNet" (Paris StreetView, deterministic):
# the mmsegmentation HRNetV2-W18 + FCN segmenter trained on ADE20K replaces
# the ASL TResNet-L (configs/_base_/teachers/hrnet_w18_seg.py). Taps at the 2x
# view: backbone.layer1 256@128 (nearest x2 -> 256), backbone.stage4:0
# 18@128, decode_head.convs 270@128 (area -> 64); head channels
# [256, 18, 270] (checked by a dry run).
# Weights: mmseg fcn_hr18_4xb4-160k_ade20k-512x512_*.pth (keys as they are).
_base_ = ['../spn_paris.py', '../_base_/teachers/hrnet_w18_seg.py']

model = dict(
    encdec=dict(prior_learner=dict(head_channels=[256, 18, 270])),
    teacher=dict(_base_.hrnet_w18_seg_teacher, _delete_=True,
        checkpoint='checkpoints/fcn_hr18_ade20k.pth'))
