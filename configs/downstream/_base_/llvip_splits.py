# LLVIP's splits for the downstream detectors, which put them into their
# stock dataloaders (`_base_.llvip_train`, `_base_.llvip_test`).
# TASK_DATA_ROOT (default data/LLVIP/) is a folder in LLVIP's layout whose
# visible/{train,test}/ hold the images T sees. The image folders differ
# between the splits; the annotations of both share one folder.
llvip_split = dict(
    type='tdfusion_mm.LLVIPDataset',
    data_root='{{$TASK_DATA_ROOT:data/LLVIP/}}', ann_file='')
llvip_train = dict(
    llvip_split,
    data_prefix=dict(_delete_=True, img_path='visible/train',
                     ir_path='infrared/train', xml_path='Annotations'))
llvip_test = dict(
    llvip_split,
    data_prefix=dict(_delete_=True, img_path='visible/test',
                     ir_path='infrared/test', xml_path='Annotations'))
