# Teacher ablation, paper Fig. 9 "SPN w/ rand" (Paris StreetView,
# deterministic): the ASL teacher's architecture (TResNet-L cut after layer2,
# same taps, [76, 76, 152]) with random weights drawn from `init_seed`, so
# the targets are identical after a resume. As
# configs/_base_/teachers/rand_tresnet_l.py (restated: spn_paris.py already
# inherits the ASL teacher file). No weights to supply.
_base_ = ['../spn_paris.py']

model = dict(
    encdec=dict(prior_learner=dict(head_channels=[76, 76, 152])),
    teacher=dict(
        _delete_=True,
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
            'timm_model.body.layer3', 'timm_model.body.layer4',
            'timm_model.head'
        ],
        out_channels=[76, 76, 152],
        init_seed=2023))
