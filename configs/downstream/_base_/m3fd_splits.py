# M3FD's splits for the downstream detectors, which put them into their
# stock dataloaders (`_base_.m3fd_train`, `_base_.m3fd_test`). TASK_DATA_ROOT
# (default data/M3FD/) is a folder in M3FD's layout whose Vis/ holds the
# images T sees: one made by tools/fuse_split.py, or the dataset itself for
# the visible images. The split files differ between the splits.
m3fd_split = dict(
    type='tdfusion_mm.M3FDDataset',
    data_root='{{$TASK_DATA_ROOT:data/M3FD/}}',
    data_prefix=dict(_delete_=True, img_path='Vis', ir_path='Ir',
                     xml_path='Annotation'))
m3fd_train = dict(m3fd_split, ann_file='splits/train.txt')
m3fd_test = dict(m3fd_split, ann_file='splits/test.txt')
