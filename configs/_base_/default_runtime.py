default_scope = 'tdfusion_mm'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Atomic writes: a kill while saving never truncates a checkpoint
    # (SafeCheckpointHook, below, enables this backend before the run).
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3,
                    backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'))
custom_hooks = [
    dict(type='LearnableFusionLossHook', interval=50),
    dict(type='SafeCheckpointHook'),
]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))
# F, G and T are wrapped one by one: each has its own optimizer and G's
# hypergradient is averaged over ranks by the model itself.
model_wrapper_cfg = dict(
    type='MMSeparateDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)

vis_backends = [dict(type='LocalVisBackend')]
# Its type, and the visualization hook, come from detection_runtime.py or
# segmentation_runtime.py: they draw T's results.
visualizer = dict(vis_backends=vis_backends, name='visualizer')
log_processor = dict(
    type='MetaFusionLogProcessor', window_size=50, by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
