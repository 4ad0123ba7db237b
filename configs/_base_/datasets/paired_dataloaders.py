# The dataloaders of every paired dataset file in this folder, which adds
# its dataset (type, data_root, folders) and pipelines. One pair a batch,
# as in the paper; testing reads the test split like validation.
train_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(test_mode=True))
test_dataloader = val_dataloader
