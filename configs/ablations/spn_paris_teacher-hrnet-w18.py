# Teacher ablation, paper Fig. 8 "HRNet" (Paris StreetView, deterministic):
# the mmsegmentation HRNetV2-W18 + FCN segmenter trained on ADE20K replaces
# the ASL TResNet-L. Same teacher as configs/_base_/teachers/hrnet_w18_seg.py
# (restated: spn_paris.py already inherits the ASL teacher file, and two bases
# may not both define `teacher`). Taps at the 2x view: backbone.layer1
# 256@128 (nearest x2 -> 256), backbone.stage4:0 18@128, decode_head.convs
# 270@128 (area -> 64); head channels [256, 18, 270] (checked by a dry run).
# Weights: mmseg fcn_hr18_4xb4-160k_ade20k-512x512_*.pth (keys as they are).
_base_ = ['../spn_paris.py']

hrnet_norm_cfg = dict(type='BN', requires_grad=False)
model = dict(
    encdec=dict(prior_learner=dict(head_channels=[256, 18, 270])),
    teacher=dict(
        _delete_=True,
        type='PretextTeacher',
        model=dict(
            _scope_='mmseg',
            type='EncoderDecoder',
            data_preprocessor=None,
            backbone=dict(
                type='HRNet',
                norm_cfg=hrnet_norm_cfg,
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
                norm_cfg=hrnet_norm_cfg,
                align_corners=False,
                loss_decode=dict(
                    type='CrossEntropyLoss',
                    use_sigmoid=False,
                    loss_weight=1.0)),
            train_cfg=dict(),
            test_cfg=dict(mode='whole')),
        taps=['backbone.layer1', 'backbone.stage4:0', 'decode_head.convs'],
        tap_resize=['nearest', 'none', 'area'],
        mean=[0.485, 0.456, 0.406],
        std=[0.229, 0.224, 0.225],
        out_channels=None,  # dry run: [256, 18, 270]
        checkpoint='checkpoints/fcn_hr18_ade20k.pth',
        checkpoint_key='model.teacher.checkpoint'))
