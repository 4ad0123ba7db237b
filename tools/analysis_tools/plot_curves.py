"""Plot the scalars logged by a TDFusion run to a PNG.

    python tools/analysis_tools/plot_curves.py WORK_DIR --out curves.png

Reads every ``WORK_DIR/<timestamp>/vis_data/scalars.json`` (written by
mmengine's ``LocalVisBackend``; runs resumed in the same work dir follow one
another), or the JSON file given instead of WORK_DIR, and draws one panel per
group of scalars against the training iteration: the fusion loss and its
terms, the task losses, the learning rates, and G's mean infrared weight
(``w_ir_mean`` of the training batches, ``probe_*`` of the fixed probe of
``LearnableFusionLossHook``); validation metrics get a last panel against
the epoch (or the iteration for iteration-based runs); a metric of -1
(mmdet's COCO metric for "no objects of this size") is not drawn.
"""
import argparse
import glob
import json
import os.path as osp
from collections import defaultdict

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def is_lr(key: str) -> bool:
    """``lr`` or ``<optimizer>.lr`` (one per optimizer of TDFusion)."""
    return key == 'lr' or key.endswith('.lr')


# (title, test on a training scalar's name); a name goes to the first match.
GROUPS = (
    ('fusion loss', lambda k: k.startswith('loss_fusion')),
    ('task loss', lambda k: k.startswith('loss') and not is_lr(k)),
    ('learning rate', is_lr),
    ("G's infrared weight", lambda k: 'w_ir' in k or 'ir_share' in k),
)
NOT_PLOTTED = ('epoch', 'iter', 'step', 'time', 'data_time', 'phase')


def parse_args():
    parser = argparse.ArgumentParser(description='Plot logged scalars')
    parser.add_argument('work_dir',
                        help='work dir of a run, or a scalars.json file')
    parser.add_argument('--out', default='curves.png', help='output PNG')
    return parser.parse_args()


def scalar_files(path: str) -> list:
    """The scalars.json file(s) of a work dir, oldest run first."""
    if osp.isfile(path):
        return [path]
    files = sorted(glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise FileNotFoundError(
            f'no */vis_data/scalars.json in {path} (is LocalVisBackend in '
            'the config\'s vis_backends?)')
    return files


def load_records(files: list) -> list:
    records = []
    for path in files:
        with open(path) as f:
            records += [json.loads(line) for line in f if line.strip()]
    return records


def collect(records: list):
    """Split into {group: {name: (xs, ys)}} for training and validation."""
    train = defaultdict(lambda: defaultdict(lambda: ([], [])))
    val = defaultdict(lambda: ([], []))
    for record in records:
        is_train = 'iter' in record
        for key, value in record.items():
            if key in NOT_PLOTTED or not isinstance(value, (int, float)):
                continue
            if not is_train:
                if value == -1:  # mmdet's "no objects of this size"
                    continue
                val[key][0].append(record['step'])
                val[key][1].append(value)
                continue
            group = next((title for title, test in GROUPS if test(key)),
                         'other')
            train[group][key][0].append(record['iter'])
            train[group][key][1].append(value)
    panels = [(title, 'iteration', train[title])
              for title in [t for t, _ in GROUPS] + ['other']
              if train[title]]
    if val:
        panels.append(('validation', 'epoch', val))
    return panels


def plot(panels: list, out: str) -> None:
    if not panels:
        raise ValueError('no scalars to plot')
    cols = min(len(panels), 2)
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(6.4 * cols, 3.6 * rows),
                             squeeze=False)
    for ax, (title, xlabel, series) in zip(axes.flat, panels):
        for name, (xs, ys) in sorted(series.items()):
            ax.plot(xs, ys, marker='.' if len(xs) < 30 else None,
                    label=name)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize='small')
    for ax in axes.flat[len(panels):]:
        ax.axis('off')
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main():
    args = parse_args()
    files = scalar_files(args.work_dir)
    panels = collect(load_records(files))
    plot(panels, args.out)
    names = sum(len(series) for _, _, series in panels)
    print(f'{names} scalar(s) from {len(files)} file(s) plotted to '
          f'{args.out}')


if __name__ == '__main__':
    main()
