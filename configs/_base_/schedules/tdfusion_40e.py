# The paper's schedule: 40 epochs, each = 200 meta pairs (learning G) then
# one pass over the data (learning F and T); Adam 1e-4 for F and T; G takes
# SGD steps of lr 1e-4 on its max-normalised hypergradient; x0.1 every 10
# epochs for all three. Each wrapper skips (and counts, as
# `nonfinite_skips`) an update whose loss or gradient is not finite.
train_cfg = dict(
    type='MetaFusionTrainLoop', max_epochs=40, meta_steps=200,
    val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    fusion_backbone=dict(
        type='NonFiniteSkipOptimWrapper',
        optimizer=dict(type='Adam', lr=1e-4, weight_decay=0)),
    loss_generator=dict(
        type='NonFiniteSkipOptimWrapper', optimizer=dict(type='SGD', lr=1e-4)),
    task_model=dict(
        type='NonFiniteSkipOptimWrapper',
        optimizer=dict(type='Adam', lr=1e-4, weight_decay=0)))

_step = dict(type='StepLR', step_size=10, gamma=0.1, by_epoch=True)
param_scheduler = dict(
    fusion_backbone=_step, loss_generator=_step, task_model=_step)
