# The two TResNet-L teachers, selected by name: `model.teacher = dict(
# _base_.asl_tresnet_l_teacher, _delete_=True)` (every teacher has its own
# variable, so several teacher bases can be bases of one config). Both share
# the architecture `tresnet_l_layer2`.
#
# TResNet-L cut after layer2 (2,578,192 parameters). Taps at a 2x (512) view
# of a 256 image: stem (body.conv1) 76@128 -> nearest-up-sampled to 256,
# layer1 76@128, layer2 152@64. Input: RGB in [0, 1], no mean/std (ASL's
# convention).
tresnet_l_layer2 = dict(
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
    out_channels=[76, 76, 152])

# The paper's teacher: ASL TResNet-L (OpenImages, multi-label).
# Weights: the ASL MODEL_ZOO "TResNet_L, OpenImages" file (InPlaceABN keys),
# converted on load by the 'asl_tresnet' key map. Set
# `model.teacher.checkpoint` to the local file; building never loads it.
asl_tresnet_l_teacher = dict(
    tresnet_l_layer2,
    type='PretextTeacher',
    mean=None,
    std=None,
    checkpoint=None,  # e.g. 'checkpoints/asl_tresnet_l_openimages.pth'
    checkpoint_key='model.teacher.checkpoint',
    checkpoint_key_map='asl_tresnet',
    checkpoint_target_prefix='timm_model.')

# "SPN w/ rand" (paper Sec. 4.4.2): the same architecture and taps with
# random weights drawn from `init_seed`, so targets are identical after a
# resume/rebuild. No weights to supply.
rand_tresnet_l_teacher = dict(
    tresnet_l_layer2, type='RandomInitTeacher', init_seed=2023)
