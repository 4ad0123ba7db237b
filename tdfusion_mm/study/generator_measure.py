"""G's infrared weight measured on a run's held-out pairs, on the annotated
objects and on the rest."""
import glob
import json
import os.path as osp


def last_checkpoint(work_dir: str):
    """The run's checkpoint of its last epoch, or None."""
    ckpts = sorted(glob.glob(osp.join(work_dir, 'epoch_*.pth')),
                   key=lambda p: int(p.rsplit('_', 1)[1][:-4]))
    return ckpts[-1] if ckpts else None


def load_run_model(work_dir: str, device: str):
    """The run's config and trained model (last checkpoint), in eval mode."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from tdfusion_mm.registry import MODELS
    from tdfusion_mm.utils.checkpoint import load_checkpoint_file
    checkpoint = last_checkpoint(work_dir)
    if checkpoint is None:
        return None, None
    cfg = Config.fromfile(osp.join(work_dir, 'run_config.py'))
    init_default_scope('tdfusion_mm')
    model = MODELS.build(cfg.model)
    model.load_state_dict(load_checkpoint_file(checkpoint)['state_dict'])
    return cfg, model.to(device).eval()


def generator_weights(work_dir: str, device: str) -> dict:
    """G's mean infrared weight on the held-out pairs, on the annotated
    objects' pixels and on the rest (cached in ``g_weights.json``)."""
    import torch
    from mmengine.dataset import pseudo_collate

    from tdfusion_mm.registry import DATASETS
    from tdfusion_mm.utils import ObjectBackgroundMean
    cache = osp.join(work_dir, 'g_weights.json')
    if osp.exists(cache):
        with open(cache) as f:
            return json.load(f)
    cfg, model = load_run_model(work_dir, device)
    if model is None:
        return {}
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    means = ObjectBackgroundMean()
    with torch.no_grad():
        for i in range(len(dataset)):
            data = model.data_preprocessor(pseudo_collate([dataset[i]]),
                                           False)
            inputs = data['inputs']
            w_ir = model.loss_weights(inputs['ir'], inputs['vis'])[:, :1]
            means.add(w_ir, data['data_samples'], boxes_scaled=False)
    result = {f'w_ir_{k}': v for k, v in means.result().items()}
    with open(cache, 'w') as f:
        json.dump(result, f)
    return result
