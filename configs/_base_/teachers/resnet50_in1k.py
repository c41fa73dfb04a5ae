# One teacher variant, selected by name: `model.teacher = dict(
# _base_.resnet50_in1k_teacher, _delete_=True)` (every teacher base has its own
# variable, so several can be bases of one config).
# mmpretrain ResNet-50 (ImageNet-1k) teacher. Taps at a 2x (512) view of a
# 256 image: stem `relu` (after conv1/bn1, before the max-pool, stride 2)
# 64@256, `layer1` (stride 4) 256@128, `layer2` (stride 8) 512@64; layer3/4
# are pruned. Input: RGB, ImageNet mean/std.
# Weights: an mmpretrain classifier checkpoint (keys `backbone.*`, e.g.
# resnet50_8xb32_in1k_20210831-ea4938fc.pth) with checkpoint_prefix
# 'backbone.'; for a torchvision resnet50 file set checkpoint_prefix=None
# (its keys match; `fc.*` is reported as unused).
resnet50_in1k_teacher = dict(
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
    checkpoint=None,  # e.g. 'checkpoints/resnet50_8xb32_in1k.pth'
    checkpoint_key='model.teacher.checkpoint',
    checkpoint_prefix='backbone.')
