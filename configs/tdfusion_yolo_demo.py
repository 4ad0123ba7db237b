# TDFusion on the embedded demo data (tools/misc/make_demo_data.py): small
# synthetic night scenes in the M3FD layout with two classes (People, Car),
# a narrow YOLOX as the task network and a short schedule, so that the whole
# method (learning G on meta pairs, then F and T) runs on a CPU in minutes
# and ends with a detector that detects (bash tools/run_demo.sh).
_base_ = './tdfusion_yolo_m3fd.py'
from tdfusion_mm.datasets.task_size import at_task_size  # noqa: E402

data_root = 'data/demo/m3fd/'
classes = ('People', 'Car')
task_size = (128, 96)  # (w, h): the demo images' own size
fusion_crop = (64, 64)

# The dataset's pipelines at the demo's sizes.
train_pipeline = at_task_size(_base_.train_pipeline, task_size)
train_pipeline[2].crop_size = fusion_crop  # RandomFusionCrop
test_pipeline = at_task_size(_base_.test_pipeline, task_size)

# Eight pairs a batch, loaded in the main process.
demo_loader = dict(batch_size=8, num_workers=0, persistent_workers=False)
demo_dataset = dict(data_root=data_root, metainfo=dict(classes=classes))
train_dataloader = dict(
    demo_loader,
    dataset=dict(demo_dataset, filter_cfg=dict(min_size=8),
                 pipeline=train_pipeline))
val_dataloader = dict(
    demo_loader, dataset=dict(demo_dataset, pipeline=test_pipeline))
test_dataloader = val_dataloader

# Narrow F and G (one Restormer block of 8 channels per branch) and a
# narrow YOLOX (about 0.3 M parameters) for the small images.
# No IR/visible swap: it doubles every batch, and the demo's budget is
# minutes on a CPU.
model = dict(
    swap_modalities=False,
    fusion_backbone=dict(dim=8, num_blocks=1, num_heads=4),
    loss_generator=dict(dim=8, num_blocks=1, num_heads=4),
    task_model=dict(
        cfg_options=dict(
            backbone=dict(deepen_factor=0.33, widen_factor=0.125),
            neck=dict(in_channels=[32, 64, 128], out_channels=32),
            bbox_head=dict(in_channels=32, feat_channels=32,
                           num_classes=len(classes)))))

# G's step sized to the budget: max_epochs x meta_steps meta pairs share the
# paper's total movement of 0.8 (its lr 1e-4 x 8,000 pairs).
train_cfg = dict(max_epochs=10, meta_steps=4, val_interval=5,
                 generator_movement=0.8)
# (G's rate comes from generator_movement in training; 1e-3 is for models
# stepped outside the loop.)
optim_wrapper = dict(
    fusion_backbone=dict(optimizer=dict(lr=1e-3)),
    loss_generator=dict(optimizer=dict(lr=1e-3)),
    task_model=dict(optimizer=dict(lr=3e-3)))
# Constant learning rates: the schedule is too short for a step decay.
param_scheduler = dict(
    fusion_backbone=dict(step_size=100), loss_generator=dict(step_size=100),
    task_model=dict(step_size=100))
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=5, max_keep_ckpts=2))
custom_hooks = [
    dict(type='LearnableFusionLossHook', interval=10),
    dict(type='SafeCheckpointHook'),
    dict(type='FusionVisualizationHook', interval=50),
]
log_processor = dict(window_size=10)
randomness = dict(seed=0)
