"""Helpers shared by the tests: build the demo model, draw batches, run the
tools, a tiny fusion network, perturbed networks, a fake LLVIP folder."""
import copy
import importlib.util
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from torch import nn

from tdfusion_mm.registry import DATASETS, MODELS, OPTIM_WRAPPER_CONSTRUCTORS


def build(demo_cfg, seed=0):
    init_default_scope('tdfusion_mm')
    cfg = copy.deepcopy(demo_cfg)
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    optim_cfg = copy.deepcopy(cfg.optim_wrapper)
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type=optim_cfg.pop('constructor'), optim_wrapper_cfg=optim_cfg))
    return cfg, model, constructor(model)


def batches(cfg, split='train', size=2):
    dl = cfg.train_dataloader if split == 'train' else cfg.test_dataloader
    dataset = DATASETS.build(dl.dataset)
    torch.manual_seed(0)
    np.random.seed(0)
    items = [dataset[i] for i in range(len(dataset))]
    return [pseudo_collate(items[i:i + size])
            for i in range(0, len(items) - size + 1, size)]


def state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def changed(before, module):
    return [k for k, v in module.state_dict().items()
            if not torch.equal(v, before[k])]


def optimizer_tensors(optim_wrapper):
    return {(pid, k): v.clone()
            for pid, st in optim_wrapper.optimizer.state.items()
            for k, v in st.items() if torch.is_tensor(v)}


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_tool(relative_path):
    """Import a script of tools/ as a module (to call its functions)."""
    spec = importlib.util.spec_from_file_location(
        os.path.splitext(os.path.basename(relative_path))[0],
        os.path.join(REPO, relative_path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def start_tool(args, cwd=REPO, env=None, threads=2):
    """Start a Python tool in a fresh process (warnings off); ``env`` adds
    environment variables. A tool spends about 8 s importing torch, mmdet
    and mmseg on one core: two tools started together, one thread each,
    overlap it (with two threads each they would contend for the 2 cores).
    Its output goes to files, so that it never waits for a reader."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               PYTHONWARNINGS='ignore', **(env or {}))
    outputs = [tempfile.TemporaryFile('w+') for _ in range(2)]
    proc = subprocess.Popen([sys.executable] + args, cwd=cwd, env=env,
                            stdout=outputs[0], stderr=outputs[1], text=True)
    proc.outputs = outputs
    return proc


def finish_tool(proc, expect_ok=True, timeout=900):
    """Wait for a tool of :func:`start_tool`; fails the test unless it
    succeeded (or, with ``expect_ok=False``, failed). Its stdout + stderr."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    texts = []
    for output in proc.outputs:
        output.seek(0)
        texts.append(output.read())
        output.close()
    out = ''.join(texts)
    assert (proc.returncode == 0) == expect_ok, (
        f'exit status {proc.returncode}\n{texts[0][-3000:]}'
        f'{texts[1][-3000:]}')
    return out


def run_tool(args, cwd=REPO, env=None, expect_ok=True):
    """Run a Python tool in a fresh process: :func:`start_tool` then
    :func:`finish_tool`."""
    return finish_tool(start_tool(args, cwd, env), expect_ok)


# The libraries that a bare GPU machine lacks (only PyTorch and the wheels
# that travel: docs/gpu.md): mmcv's compiled ops, mmdet and mmseg, OpenCV
# and matplotlib.
ABSENT_ON_BARE_MACHINE = ('mmcv', 'mmdet', 'mmseg', 'cv2', 'matplotlib')

_BLOCKER = """import sys
class _Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {absent!r}:
            raise ImportError(f'{{name}} is absent (blocked by the test)')
sys.meta_path.insert(0, _Absent())
"""


def run_without(modules, args, cwd=REPO, expect_ok=True):
    """Run ``python -c CODE`` or ``python SCRIPT ARGS`` (``args`` a string
    of code or a list) in a fresh process in which ``modules`` (top-level
    names) cannot be imported, on one thread (tiny tensors: two threads on
    a loaded machine, the device check's smoke run took 124 s instead of
    4 s). Its stdout + stderr."""
    blocker = _BLOCKER.format(absent=tuple(modules))
    if isinstance(args, str):
        command = ['-c', blocker + args]
    else:
        command = ['-c', blocker + 'import runpy\n'
                   f'sys.argv = {list(args)!r}\n'
                   f'runpy.run_path({args[0]!r}, run_name="__main__")']
    return finish_tool(start_tool(command, cwd, threads=1), expect_ok)


def demo_data_options(data_root):
    """``--cfg-options`` reading ``data_root`` in the main process."""
    return [
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
        'test_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.persistent_workers=False',
    ]


class TinyFusion(nn.Module):
    """A two-layer stand-in for F, small enough for float64 checks."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 3, 3, padding=1)
        self.conv2 = nn.Conv2d(3, 1, 3, padding=1)

    def forward(self, ir, vis_y):
        x = torch.tanh(self.conv1(torch.cat([ir, vis_y], 1)))
        return torch.sigmoid(self.conv2(x))


def perturbed(net, dtype=torch.float32, seed=0):
    """Non-default norms and temperatures, so every parameter matters."""
    torch.manual_seed(seed)
    net = net.to(dtype)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return net


def fake_llvip(root, n=12):
    """An LLVIP folder of ``n`` annotated train pairs (empty files) and an
    annotation without its image."""
    for sub in ('Annotations', 'infrared/train', 'visible/train'):
        os.makedirs(os.path.join(root, sub))
    for i in range(n):
        for sub, ext in (('Annotations', 'xml'), ('visible/train', 'jpg')):
            open(os.path.join(root, sub, f'{i:06d}.{ext}'), 'w').close()
    # an annotation without its image is not part of either split
    open(os.path.join(root, 'Annotations', '999999.xml'), 'w').close()
