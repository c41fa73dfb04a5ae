# One teacher variant, selected by name: `model.teacher = dict(
# _base_.rand_tresnet_l_teacher, _delete_=True)` (every teacher base has its own
# variable, so several can be bases of one config).
# "SPN w/ rand" (paper Sec. 4.4.2): the ASL teacher's architecture (TResNet-L
# cut after layer2, same taps) with random weights drawn from `init_seed`,
# so targets are identical after a resume/rebuild. No weights to supply.
rand_tresnet_l_teacher = dict(
    type='RandomInitTeacher',
    model=dict(
        type='mmpretrain.TIMMBackbone',
        model_name='tresnet_l',
        pretrained=False),
    taps=[
        'timm_model.body.conv1', 'timm_model.body.layer1',
        'timm_model.body.layer2'
    ],
    tap_resize=['nearest', 'none', 'none'],
    prune=[
        'timm_model.body.layer3', 'timm_model.body.layer4', 'timm_model.head'
    ],
    out_channels=[76, 76, 152],
    init_seed=2023)
