"""Training-step cost items: a plain fusion step, a meta pair or an F+T
iteration of a config's model on synthetic batches."""
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TRAIN_SETUPS = {
    # name: (config, task (h, w), crop); the batch is the config's.
    'msrs': ('configs/tdfusion_segformer_msrs.py', (240, 320), 256),
    'm3fd': ('configs/tdfusion_yolo_m3fd.py', (192, 256), 256),
    'demo': ('configs/tdfusion_yolo_demo.py', (96, 128), 64),
    'demo_seg': ('configs/tdfusion_segformer_demo.py', (96, 128), 64),
}


def synthetic_batch(task: str, size, crop: int, seed: int,
                    batch_size: int = 1, num_classes: int = 3):
    """``batch_size`` pairs as the dataloader would give them (random
    content)."""
    import torch
    g = torch.Generator().manual_seed(seed)
    h, w = size
    pairs = [synthetic_pair(task, size, crop, g, num_classes)
             for _ in range(batch_size)]
    keys = ('ir', 'vis', 'ir_crop', 'vis_crop')
    return dict(inputs={k: [p[0][k] for p in pairs] for k in keys},
                data_samples=[p[1] for p in pairs])


def synthetic_pair(task: str, size, crop: int, g, num_classes: int):
    """One pair's inputs (uint8 tensors) and its task data sample."""
    import torch
    h, w = size

    def img(c, hh, ww):
        return torch.randint(0, 256, (c, hh, ww), generator=g,
                             dtype=torch.uint8)

    meta = dict(img_shape=(h, w), ori_shape=(h, w), scale_factor=(1., 1.),
                img_path='synthetic.png', flip=False, flip_direction=None)
    if task == 'seg':
        from mmengine.structures import PixelData
        from mmseg.structures import SegDataSample
        sample = SegDataSample(metainfo=meta)
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, num_classes, (1, h, w), generator=g))
    else:
        from mmdet.structures import DetDataSample
        from mmdet.structures.bbox import HorizontalBoxes
        from mmengine.structures import InstanceData
        sample = DetDataSample(metainfo=meta)
        xy = torch.rand(4, 2, generator=g) * torch.tensor([w * .6, h * .6])
        wh = torch.rand(4, 2, generator=g) * torch.tensor([w * .3, h * .3])
        wh += 8
        inst = InstanceData()
        inst.bboxes = HorizontalBoxes(torch.cat([xy, xy + wh], 1))
        inst.labels = torch.randint(0, num_classes, (4, ), generator=g)
        sample.gt_instances = inst
        sample.ignored_instances = InstanceData(
            bboxes=HorizontalBoxes(torch.zeros(0, 4)),
            labels=torch.zeros(0, dtype=torch.long))
    return dict(ir=img(1, h, w), vis=img(3, h, w), ir_crop=img(1, crop, crop),
                vis_crop=img(3, crop, crop)), sample


def build_train(kind: str, setup: str, hessian_vector: str,
                batch_size: int = 0):
    import copy

    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from tdfusion_mm.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
    cfg_path, size, crop = TRAIN_SETUPS[setup]
    cfg = Config.fromfile(osp.join(REPO, cfg_path))
    init_default_scope('tdfusion_mm')
    torch.manual_seed(0)
    cfg.model.hessian_vector = hessian_vector
    kind, frozen, _ = kind.partition('-frozen')
    if frozen:
        cfg.optim_wrapper.task_model = None
    model = MODELS.build(copy.deepcopy(cfg.model))
    if frozen:
        model.freeze_task_model()
    model.train()
    optim_cfg = copy.deepcopy(cfg.optim_wrapper)
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type=optim_cfg.pop('constructor'), optim_wrapper_cfg=optim_cfg))
    optim = constructor(model)
    task = 'seg' if 'segformer' in cfg_path else 'det'
    head = model.task_model.decode_head if task == 'seg' \
        else model.task_model.bbox_head
    counter = [0]

    def batch():
        counter[0] += 1
        return synthetic_batch(task, size, crop, counter[0],
                               batch_size or cfg.train_dataloader.batch_size,
                               head.num_classes)

    if kind == 'meta':

        def step():
            model.train_loss_generator(batch(), batch(), optim)
    elif kind == 'ft':

        def step():
            model.train_fusion_and_task(batch(), optim)
    else:
        f_optim = optim['fusion_backbone']

        def step():
            b = model.prepare(batch())
            with torch.no_grad():
                weights = model.loss_generator(b.ir_crop, b.vis_y_crop)
            fused = model.fusion_backbone(b.ir_crop, b.vis_y_crop)
            terms = model.fusion_loss(fused, b.ir_crop, b.vis_y_crop,
                                      weights)
            loss, _ = model.parse_losses(terms)
            f_optim.update_params(loss)

    return step
