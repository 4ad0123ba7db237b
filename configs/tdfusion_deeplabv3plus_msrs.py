# Another segmentor family as the task network, by inheritance alone:
# DeepLabV3+ with a ResNet-18 (dilated) backbone instead of SegFormer-B0,
# everything else as tdfusion_segformer_msrs.
_base_ = './tdfusion_segformer_msrs.py'

model = dict(
    task_model=dict(
        _delete_=True,
        cfg_path='mmseg::deeplabv3plus/'
        'deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024.py',
        cfg_options=dict(
            # No download at build time: train the backbone from scratch, or
            # set an ImageNet checkpoint here.
            pretrained=None,
            decode_head=dict(num_classes=9),
            auxiliary_head=dict(num_classes=9),
            data_preprocessor=dict(size=(240, 320)))))
