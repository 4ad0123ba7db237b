# The trained model `refusion_msrs_learned` of the model index: as
# refusion_msrs_fixed.py with the learned fusion loss (G, the official LPN,
# trained by meta-learning on SegFormer-B0's loss).
# Usage: python tools/train.py configs/zoo/refusion_msrs_learned.py
_base_ = './refusion_msrs_fixed.py'

model = dict(loss_generator=dict(_delete_=True, type='LossGenerationModule'))
# Both batches of a meta pair from one batch of 4 (2 + 2 pairs): half
# the memory and time of two batches.
train_cfg = dict(meta_steps=5, generator_movement=0.8, meta_batch_size=2)
