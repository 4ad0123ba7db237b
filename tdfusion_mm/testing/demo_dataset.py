"""The demo dataset: synthetic scenes (:mod:`.scene_painter`) written in two
layouts, M3FD (detection, Pascal VOC XML) and MSRS (segmentation, label
PNG)."""
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

from .scene_painter import M3FD_CLASSES, draw_scene

__all__ = ['generate_demo_dataset', 'DEMO_DATA']

DEMO_VERSION = 1
# The data of the demo configs (``configs/tdfusion_yolo_demo.py``): two
# classes; boxes with a side under 8 pixels are marked difficult.
DEMO_DATA = dict(num_train=160, num_test=40, height=96, width=128, seed=0,
                 classes=('People', 'Car'), difficult_below=8)
_SPLITS = ('train', 'test')


def _voc_xml(filename: str, height: int, width: int,
             objects: Sequence[Dict]) -> str:
    lines = [
        '<annotation>', '\t<folder>m3fd</folder>',
        f'\t<filename>{filename}</filename>', '\t<size>',
        f'\t\t<width>{width}</width>', f'\t\t<height>{height}</height>',
        '\t\t<depth>3</depth>', '\t</size>'
    ]
    for obj in objects:
        xmin, ymin, xmax, ymax = obj['bbox']
        lines += [
            '\t<object>', f'\t\t<name>{obj["name"]}</name>',
            '\t\t<pose>Unspecified</pose>',
            f'\t\t<truncated>{obj["truncated"]}</truncated>',
            f'\t\t<difficult>{obj["difficult"]}</difficult>',
            '\t\t<bndbox>',
            f'\t\t\t<xmin>{xmin}</xmin>', f'\t\t\t<ymin>{ymin}</ymin>',
            f'\t\t\t<xmax>{xmax}</xmax>', f'\t\t\t<ymax>{ymax}</ymax>',
            '\t\t</bndbox>', '\t</object>'
        ]
    return '\n'.join(lines + ['</annotation>']) + '\n'


def _layout(root: str) -> Dict:
    m3fd, msrs = osp.join(root, 'm3fd'), osp.join(root, 'msrs')
    return dict(
        root=root,
        meta=osp.join(root, 'demo_meta.json'),
        m3fd=dict(
            root=m3fd,
            ir=osp.join(m3fd, 'Ir'),
            vis=osp.join(m3fd, 'Vis'),
            ann=osp.join(m3fd, 'Annotation'),
            splits={s: osp.join(m3fd, 'splits', f'{s}.txt')
                    for s in _SPLITS}),
        msrs=dict(
            root=msrs,
            **{
                s: {
                    d: osp.join(msrs, s, d)
                    for d in ('ir', 'vi', 'Label')
                }
                for s in _SPLITS
            }))


def _expected_files(layout: Dict, split_ids: Dict[str, List[str]]) -> List:
    m3fd, msrs = layout['m3fd'], layout['msrs']
    files = list(m3fd['splits'].values())
    for split, ids in split_ids.items():
        for i in ids:
            files += [
                osp.join(m3fd['ir'], f'{i}.png'),
                osp.join(m3fd['vis'], f'{i}.png'),
                osp.join(m3fd['ann'], f'{i}.xml')
            ]
            files += [osp.join(d, f'{i}.png') for d in msrs[split].values()]
    return files


def _read_meta(path: str) -> Optional[Dict]:
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def _write_meta(path: str, meta: Dict) -> None:
    with open(path, 'w') as f:
        json.dump(meta, f, indent=2)


def generate_demo_dataset(root: str,
                          num_train: int = 24,
                          num_test: int = 8,
                          height: int = 96,
                          width: int = 128,
                          seed: int = 0,
                          classes: Sequence[str] = M3FD_CLASSES,
                          difficult_below: int = 0) -> Dict:
    """Write a synthetic dataset in the M3FD and MSRS layouts under ``root``.

    Scene ``i`` (ids ``00000``, ``00001``, ...; the first ``num_train`` form
    the train split) is drawn from ``np.random.default_rng([seed, i])`` and
    written to both layouts. ``root/demo_meta.json`` records the parameters:
    if it matches and every file exists, nothing is rewritten. A ``root``
    holding ``m3fd`` or ``msrs`` folders without that file is refused, so as
    not to overwrite real data.

    Args:
        root (str): Output folder.
        num_train (int): Number of train scenes. Defaults to 24.
        num_test (int): Number of test scenes. Defaults to 8.
        height (int): Image height, at least 32. Defaults to 96.
        width (int): Image width, at least 32. Defaults to 128.
        seed (int): Non-negative seed. Defaults to 0.
        classes (Sequence[str]): M3FD classes drawn and annotated (see
            :func:`draw_scene`). Defaults to all six.
        difficult_below (int): Boxes with a shorter side below this many
            pixels are annotated as difficult. Defaults to 0.

    Returns:
        dict: The paths (``root``, ``meta``, ``m3fd`` and ``msrs`` dicts of
        folders and split files), ``num_train``, ``num_test``,
        ``num_boxes`` (per M3FD class) and ``generated`` (False if an
        existing dataset was reused).
    """
    if min(height, width) < 32:
        raise ValueError(f'height and width must be >= 32, got '
                         f'{height}x{width}')
    if min(num_train, num_test, seed, difficult_below) < 0:
        raise ValueError(
            'num_train, num_test, seed and difficult_below must be >= 0')
    unknown = set(classes) - set(M3FD_CLASSES)
    if unknown or not classes:
        raise ValueError(f'classes must be a non-empty subset of '
                         f'{M3FD_CLASSES}, got {tuple(classes)}')
    classes = [c for c in M3FD_CLASSES if c in classes]
    params = dict(
        version=DEMO_VERSION,
        num_train=num_train,
        num_test=num_test,
        height=height,
        width=width,
        seed=seed,
        classes=classes,
        difficult_below=difficult_below)
    layout = _layout(root)
    ids = [f'{i:05d}' for i in range(num_train + num_test)]
    split_ids = dict(train=ids[:num_train], test=ids[num_train:])
    result = dict(layout, num_train=num_train, num_test=num_test)

    meta = _read_meta(layout['meta'])
    if (meta is not None and meta['params'] == params and meta['complete']
            and all(map(osp.isfile, _expected_files(layout, split_ids)))):
        return dict(result, num_boxes=meta['num_boxes'], generated=False)
    ours = (layout['m3fd']['root'], layout['msrs']['root'])
    if meta is None and any(map(osp.exists, ours)):
        raise FileExistsError(f'{root} holds m3fd/ or msrs/ without '
                              'demo_meta.json; refusing to overwrite it')
    for folder in ours:
        if osp.exists(folder):
            shutil.rmtree(folder)
    os.makedirs(root, exist_ok=True)
    _write_meta(layout['meta'], dict(params=params, complete=False))

    m3fd, msrs = layout['m3fd'], layout['msrs']
    for folder in [
            m3fd['ir'], m3fd['vis'], m3fd['ann'],
            osp.dirname(m3fd['splits']['train'])
    ] + [d for s in _SPLITS for d in msrs[s].values()]:
        os.makedirs(folder)
    num_boxes = dict.fromkeys(classes, 0)
    for split, split_list in split_ids.items():
        for i in split_list:
            rng = np.random.default_rng([seed, int(i)])
            ir, vis, label, objects = draw_scene(rng, height, width, classes,
                                                 difficult_below)
            for obj in objects:
                num_boxes[obj['name']] += 1
            name = f'{i}.png'
            cv2.imwrite(osp.join(m3fd['ir'], name), ir)
            cv2.imwrite(osp.join(m3fd['vis'], name), vis)
            with open(osp.join(m3fd['ann'], f'{i}.xml'), 'w') as f:
                f.write(_voc_xml(name, height, width, objects))
            for key, img in zip(('ir', 'vi', 'Label'), (ir, vis, label)):
                cv2.imwrite(osp.join(msrs[split][key], name), img)
        with open(m3fd['splits'][split], 'w') as f:
            f.write(''.join(f'{i}\n' for i in split_list))
    _write_meta(layout['meta'],
                dict(params=params, complete=True, num_boxes=num_boxes))
    return dict(result, num_boxes=num_boxes, generated=True)
