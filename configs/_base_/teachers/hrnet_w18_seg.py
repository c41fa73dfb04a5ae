# One teacher variant, selected by name: `model.teacher = dict(
# _base_.hrnet_w18_seg_teacher, _delete_=True)` (every teacher base has its own
# variable, so several can be bases of one config).
# mmsegmentation HRNetV2-W18 + FCN head (ADE20K semantic segmentation)
# teacher, the paper's "HRNet" ablation (Sec. 4.4.2). Built under
# `_scope_='mmseg'` with plain BN (no SyncBN), no data preprocessor and no
# `pretrained` URL. Taps at a 2x (512) view of a 256 image:
#   backbone.layer1    256@128 (stride 4), nearest-up-sampled to 256
#   backbone.stage4:0   18@128 (high-resolution branch, stride 4)
#   decode_head.convs  270@128 (fused segmentation features), area -> 64
# Input: RGB, ImageNet mean/std (mmseg's SegDataPreProcessor values).
# Weights: the mmseg checkpoint fcn_hr18_4xb4-160k_ade20k-512x512_*.pth
# (keys `backbone.*`, `decode_head.*` match as they are).
hrnet_w18_norm_cfg = dict(type='BN', requires_grad=False)
hrnet_w18_seg_teacher = dict(
    type='PretextTeacher',
    model=dict(
        _scope_='mmseg',
        type='EncoderDecoder',
        data_preprocessor=None,
        backbone=dict(
            type='HRNet',
            norm_cfg=hrnet_w18_norm_cfg,
            norm_eval=True,
            extra=dict(
                stage1=dict(
                    num_modules=1,
                    num_branches=1,
                    block='BOTTLENECK',
                    num_blocks=(4, ),
                    num_channels=(64, )),
                stage2=dict(
                    num_modules=1,
                    num_branches=2,
                    block='BASIC',
                    num_blocks=(4, 4),
                    num_channels=(18, 36)),
                stage3=dict(
                    num_modules=4,
                    num_branches=3,
                    block='BASIC',
                    num_blocks=(4, 4, 4),
                    num_channels=(18, 36, 72)),
                stage4=dict(
                    num_modules=3,
                    num_branches=4,
                    block='BASIC',
                    num_blocks=(4, 4, 4, 4),
                    num_channels=(18, 36, 72, 144)))),
        decode_head=dict(
            type='FCNHead',
            in_channels=[18, 36, 72, 144],
            in_index=(0, 1, 2, 3),
            channels=sum([18, 36, 72, 144]),
            input_transform='resize_concat',
            kernel_size=1,
            num_convs=1,
            concat_input=False,
            dropout_ratio=-1,
            num_classes=150,
            norm_cfg=hrnet_w18_norm_cfg,
            align_corners=False,
            loss_decode=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
        train_cfg=dict(),
        test_cfg=dict(mode='whole')),
    taps=['backbone.layer1', 'backbone.stage4:0', 'decode_head.convs'],
    tap_resize=['nearest', 'none', 'area'],
    mean=[0.485, 0.456, 0.406],
    std=[0.229, 0.224, 0.225],
    out_channels=None,  # derived by a dry run: [256, 18, 270]
    checkpoint=None,  # e.g. 'checkpoints/fcn_hr18_ade20k.pth'
    checkpoint_key='model.teacher.checkpoint')
