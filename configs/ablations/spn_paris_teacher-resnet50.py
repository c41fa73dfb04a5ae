# Teacher ablation (paper Sec. 4.4.2 / Fig. 8 family; Paris StreetView,
# deterministic): an ImageNet-1k mmpretrain ResNet-50 replaces the ASL
# TResNet-L (configs/_base_/teachers/resnet50_in1k.py: stem relu 64@256,
# layer1 256@128, layer2 512@64 at the 2x view; ImageNet mean/std).
# Weights: an mmpretrain ResNet-50 classifier checkpoint (keys backbone.*).
_base_ = ['../spn_paris.py', '../_base_/teachers/resnet50_in1k.py']

model = dict(
    encdec=dict(prior_learner=dict(head_channels=[64, 256, 512])),
    teacher=dict(_base_.resnet50_in1k_teacher, _delete_=True,
        checkpoint='checkpoints/resnet50_8xb32_in1k.pth'))
