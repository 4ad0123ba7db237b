"""The data of each task: the demo scenes, MSRS's bench split and the held-out
LLVIP pairs."""
import os
import os.path as osp

from .design import VOC_MAP50


def demo_data(root: str) -> str:
    """The demo scenes (as ``tools/misc/make_demo_data.py`` makes them)."""
    from tdfusion_mm.testing import DEMO_DATA, generate_demo_dataset
    generate_demo_dataset(root, **DEMO_DATA)
    return osp.join(root, 'm3fd')


def llvip_splits(root: str, out_dir: str):
    """Every 5th annotated train pair (sorted ids) held out; returns the two
    split files."""
    ids = sorted(osp.splitext(f)[0]
                 for f in os.listdir(osp.join(root, 'Annotations'))
                 if f.endswith('.xml') and osp.exists(
                     osp.join(root, 'visible', 'train', f[:-4] + '.jpg')))
    if len(ids) < 5:
        raise RuntimeError(f'{root}: fewer than 5 annotated train pairs')
    val = ids[4::5]
    train = [i for i in ids if i not in val]
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for name, part in (('train', train), ('val', val)):
        # Absolute: the dataset would join a relative one to its data_root.
        path = osp.abspath(osp.join(out_dir, f'llvip_{name}.txt'))
        with open(path, 'w') as f:
            f.write('\n'.join(part) + '\n')
        paths.append(path)
    return paths


def data_settings(task: str, args) -> dict:
    """Root, splits, folder keys and metric of a task's data."""
    if task == 'demo':
        root = demo_data(args.roots['demo'])
        return dict(root=root, train=osp.join(root, 'splits', 'train.txt'),
                    val=osp.join(root, 'splits', 'test.txt'), prefix=None,
                    metric=VOC_MAP50)
    root = args.roots[task]
    if task == 'seg':
        return dict(
            root=root, train=osp.join(root, 'splits', 'bench_train.txt'),
            val=osp.join(root, 'splits', 'bench_val.txt'),
            prefix=dict(img_path='train/vi', ir_path='train/ir',
                        seg_map_path='train/Label'),
            metric=dict(type='mmseg.IoUMetric', iou_metrics=['mIoU']))
    train, val = llvip_splits(root, osp.join(args.work_dir, 'det'))
    return dict(root=root, train=train, val=val,
                prefix=dict(img_path='visible/train',
                            ir_path='infrared/train',
                            xml_path='Annotations'),
                metric=VOC_MAP50)
