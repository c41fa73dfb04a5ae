# Runtime shared by every spn_mm config (mmagic scope + spn_mm registration).
default_scope = 'mmagic'
custom_imports = dict(imports=['spn_mm'], allow_failed_imports=False)
save_dir = './work_dirs'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook',
        interval=10000,
        by_epoch=False,
        max_keep_ckpts=5,
        save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # SPN: stop on the first NaN/inf loss term before anything is saved
    non_finite=dict(type='NonFiniteLossHook'),
    # SPN: the prior-loss cut (off by default; paper configs set until_epoch)
    prior_loss=dict(type='PriorLossScheduleHook'),
    # SPN: log the schedule in epochs and iterations + the loss terms
    schedule_info=dict(type='SPNScheduleInfoHook'),
)

# GPUs use nccl; tools/train.py switches to gloo + CPU DDP when no CUDA exists.
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
# Every top-level child (generator, disc) gets its own DDP wrapper; frozen
# children (the teacher) are never wrapped.
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel')

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='ConcatImageVisualizer',
    vis_backends=vis_backends,
    fn_key='gt_path',
    img_keys=['gt_img', 'input', 'pred_img'],
    bgr2rgb=True)

log_level = 'INFO'
log_processor = dict(type='LogProcessor', by_epoch=False)
randomness = dict(seed=2022, deterministic=False)

load_from = None
resume = False
