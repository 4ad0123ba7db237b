# TDFusion with SegFormer-B0 on the embedded demo data
# (tools/misc/make_demo_data.py): small synthetic night scenes in the MSRS
# layout and a short schedule, so that the whole method (learning G on meta
# pairs, then F and T) runs on a CPU in minutes.
_base_ = './tdfusion_segformer_msrs.py'
from tdfusion_mm.datasets.task_size import at_task_size  # noqa: E402

data_root = 'data/demo/msrs/'
task_hw = (96, 128)  # (h, w): the demo images' own size
task_size = task_hw[::-1]  # (w, h), as mmseg.Resize takes it
fusion_crop = (64, 64)

# The dataset's pipelines at the demo's sizes.
train_pipeline = at_task_size(_base_.train_pipeline, task_size)
train_pipeline[2].crop_size = fusion_crop  # RandomFusionCrop
test_pipeline = at_task_size(_base_.test_pipeline, task_size)

# Four pairs a batch, loaded in the main process.
demo_loader = dict(batch_size=4, num_workers=0, persistent_workers=False)
train_dataloader = dict(
    demo_loader, dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    demo_loader, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

model = dict(
    task_model=dict(cfg_options=dict(data_preprocessor=dict(size=task_hw))))

train_cfg = dict(max_epochs=12, meta_steps=4, val_interval=1)
optim_wrapper = dict(
    fusion_backbone=dict(optimizer=dict(lr=1e-3)),
    loss_generator=dict(optimizer=dict(lr=1e-3)),
    task_model=dict(optimizer=dict(lr=2e-3)))
param_scheduler = dict(
    fusion_backbone=dict(step_size=8), loss_generator=dict(step_size=8),
    task_model=dict(step_size=8))
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(interval=6, max_keep_ckpts=2))
custom_hooks = [
    dict(type='LearnableFusionLossHook', interval=10),
    dict(type='SafeCheckpointHook'),
]
log_processor = dict(window_size=5)
randomness = dict(seed=0)
