# Teacher ablation (paper Sec. 4.4.2 / Fig. 8 family; Paris StreetView,
# deterministic): an ImageNet-1k mmpretrain ResNet-50 replaces the ASL
# TResNet-L. Same teacher as configs/_base_/teachers/resnet50_in1k.py (stem
# relu 64@256, layer1 256@128, layer2 512@64 at the 2x view; ImageNet
# mean/std). It is restated here because spn_paris.py already inherits the
# ASL teacher file, and two bases may not both define `teacher`.
# Weights: an mmpretrain ResNet-50 classifier checkpoint (keys backbone.*).
_base_ = ['../spn_paris.py']

model = dict(
    encdec=dict(prior_learner=dict(head_channels=[64, 256, 512])),
    teacher=dict(
        _delete_=True,
        type='PretextTeacher',
        model=dict(
            type='mmpretrain.ResNet',
            depth=50,
            out_indices=(1, ),
            norm_cfg=dict(type='BN', requires_grad=False)),
        taps=['relu', 'layer1', 'layer2'],
        tap_resize=['none', 'none', 'none'],
        prune=['layer3', 'layer4'],
        mean=[0.485, 0.456, 0.406],
        std=[0.229, 0.224, 0.225],
        out_channels=[64, 256, 512],
        checkpoint='checkpoints/resnet50_8xb32_in1k.pth',
        checkpoint_key='model.teacher.checkpoint',
        checkpoint_prefix='backbone.'))
