"""Under DDP: G's hypergradient of 2 ranks x batch b equals 1 rank x 2b;
an update that one rank must skip is skipped by all."""
import functools
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from helpers import TinyFusion
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from tdfusion_mm.engine.optimizers import NonFiniteSkipOptimWrapper
from tdfusion_mm.models.losses import LearnableFusionLoss
from tdfusion_mm.models.meta import average_hypergrads, meta_hypergradient
from tdfusion_mm.utils.dist import close_distributed


class TinyGenerator(nn.Module):

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3, padding=1)

    def forward(self, ir, vis_y):
        return torch.softmax(self.conv(torch.cat([ir, vis_y], 1)) * 4, dim=1)


def problem():
    torch.manual_seed(0)
    nets = TinyFusion().double(), TinyGenerator().double()
    task = nn.Conv2d(1, 2, 3, padding=1).double().requires_grad_(False)
    data = {k: torch.rand(4, 1, 8, 8, dtype=torch.float64)
            for k in ('inner_ir', 'inner_vis', 'outer_ir', 'outer_vis')}
    target = torch.randint(0, 2, (4, 8, 8))
    return nets, task, data, target


def hypergrads(rows):
    (fusion, generator), task, data, target = problem()
    pick = {k: v[rows] for k, v in data.items()}
    result = meta_hypergradient(
        fusion, generator, LearnableFusionLoss(),
        dict(ir=pick['inner_ir'], vis_y=pick['inner_vis']),
        dict(ir=pick['outer_ir'], vis_y=pick['outer_vis']),
        lambda fused: nn.functional.cross_entropy(task(fused), target[rows]),
        inner_lr=0.5)
    average_hypergrads(result.hypergrads)
    return result.hypergrads


def worker(rank):
    torch.set_num_threads(1)
    grads = hypergrads(slice(2 * rank, 2 * rank + 2))
    return {k: v.numpy().copy() for k, v in grads.items()}


def rank_process(target, rank, port, queue):
    """Join a two-rank gloo group, put ``(rank, target(rank))`` in the
    queue and leave the group once the target's objects (a DDP module holds
    the group) are gone. Results travel as numpy arrays, by value: a tensor
    would travel as a shared-memory handle that dies with this process."""
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                            rank=rank, world_size=2)
    queue.put((rank, target(rank)))
    close_distributed()


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def two_ranks(target, timeout):
    """Run ``target(rank)`` on each rank of a two-process group; what
    each returned, by rank. A rank still running after
    ``timeout`` seconds fails the test (and is killed)."""
    ctx = mp.get_context('spawn')
    queue = ctx.Queue()
    port = free_port()
    procs = [ctx.Process(target=rank_process,
                         args=(target, r, port, queue))
             for r in range(2)]
    for p in procs:
        p.start()
    try:
        results = dict(queue.get(timeout=timeout) for _ in procs)
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    return results


def test_two_ranks_equal_one_rank_with_the_whole_batch():
    single = hypergrads(slice(0, 4))
    results = two_ranks(worker, timeout=300)
    for rank in (0, 1):
        for k, v in single.items():
            torch.testing.assert_close(torch.from_numpy(results[rank][k]),
                                       v, rtol=1e-9,
                                       atol=1e-12)
    # Without the all-reduces of the inner step and of v each rank would
    # step F on its own half, and the mean of the two halves'
    # hypergradients is not the whole batch's: the test can fail.
    halves = hypergrads(slice(0, 2)), hypergrads(slice(2, 4))
    assert any(not torch.allclose((halves[0][k] + halves[1][k]) / 2, v)
               for k, v in single.items())


def guarded_worker(rank):
    """One guarded update of a DDP-wrapped layer whose loss is NaN on rank
    0 only, then one with finite losses on both ranks."""
    torch.manual_seed(0)
    layer = DistributedDataParallel(nn.Linear(3, 1))
    optim = NonFiniteSkipOptimWrapper(
        torch.optim.SGD(layer.parameters(), lr=0.1))
    before = layer.module.weight.detach().clone()
    with optim.optim_context(layer):
        loss = layer(torch.ones(2, 3)).sum()
    made = [optim.update_params(loss * (float('nan') if rank == 0
                                        else 1.0))]
    unchanged = torch.equal(layer.module.weight, before)
    with optim.optim_context(layer):
        loss = layer(torch.ones(2, 3)).sum()
    made.append(optim.update_params(loss))
    return (made, unchanged, optim.nonfinite_skips,
            layer.module.weight.detach().numpy().copy())


def test_an_update_skipped_on_one_rank_is_skipped_on_all():
    """Else the other rank's backward waits for a gradient all-reduce that
    never comes (the test would time out)."""
    results = two_ranks(guarded_worker, timeout=120)
    for rank in (0, 1):
        made, unchanged, skips, _ = results[rank]
        assert made == [False, True] and unchanged, results[rank]
        assert skips == 1
    # The update both made kept the replicas equal.
    assert (results[0][3] == results[1][3]).all()


def frozen_task_worker(demo_root, rank):
    """The demo model without T's optimizer, wrapped part by part as
    distributed training wraps it: a phase-2 step and a meta pair, each
    rank on its own batches."""
    from helpers import REPO, batches, state
    from mmengine.config import Config
    from mmengine.model import MMSeparateDistributedDataParallel
    from mmengine.registry import init_default_scope

    from tdfusion_mm.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
    from tdfusion_mm.utils import register_all_modules
    from tdfusion_mm.utils.model_wrappers import unwrap
    torch.set_num_threads(1)
    register_all_modules(init_default_scope=False)
    init_default_scope('tdfusion_mm')
    cfg = Config.fromfile(f'{REPO}/configs/tdfusion_yolo_demo.py')
    cfg.train_dataloader.dataset.data_root = f'{demo_root}/m3fd/'
    cfg.optim_wrapper.task_model = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    optim_cfg = cfg.optim_wrapper.to_dict()
    optim = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type=optim_cfg.pop('constructor'),
             optim_wrapper_cfg=optim_cfg))(model)
    wrapped = MMSeparateDistributedDataParallel(model)
    data = batches(cfg, size=1)[rank::2]
    parts = dict(task=unwrap(model.task_model),
                 fusion=unwrap(model.fusion_backbone),
                 generator=unwrap(model.loss_generator))

    def numpy():
        return {part: {k: v.numpy().copy()
                       for k, v in state(module).items()}
                for part, module in parts.items()}

    before = numpy()
    wrapped.train()
    wrapped.train_step(data[0], optim)
    wrapped.train_step(dict(inner=data[1], outer=data[2]), optim)
    return before, numpy()


def test_a_frozen_task_stays_the_same_on_both_ranks(demo_root):
    """T without an optimizer: unchanged and equal on both ranks after a
    phase-2 step and a meta pair, while F learns equally on both."""
    results = two_ranks(functools.partial(frozen_task_worker, demo_root),
                        timeout=300)
    for rank in (0, 1):
        before, after = results[rank]
        for k, v in before['task'].items():
            assert (v == after['task'][k]).all(), f'T moved at {k}'
        assert any((v != after['fusion'][k]).any()
                   for k, v in before['fusion'].items()), 'F did not learn'
    for part, tensors in results[0][1].items():
        for k, v in tensors.items():
            assert (v == results[1][1][part][k]).all(), (part, k)


def test_dist_train_script_two_cpu_processes(demo_root, tmp_path):
    """tools/dist_train.sh: 2 processes (gloo) through both phases."""
    import os.path as osp
    import subprocess
    import sys
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    data_root = f'{demo_root}/m3fd/'
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHON=sys.executable,
               PORT=str(free_port()), PYTHONWARNINGS='ignore')
    out = subprocess.run(
        ['bash', osp.join(repo, 'tools', 'dist_train.sh'),
         osp.join(repo, 'configs', 'tdfusion_yolo_demo.py'), '2',
         '--work-dir', str(tmp_path), '--cfg-options',
         f'train_dataloader.dataset.data_root={data_root}',
         f'val_dataloader.dataset.data_root={data_root}',
         f'test_dataloader.dataset.data_root={data_root}',
         'train_cfg.max_epochs=1', 'train_cfg.meta_steps=1',
         'default_hooks.logger.interval=1'],
        cwd=repo, env=env, capture_output=True, text=True, timeout=900)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    assert 'loss_task_meta' in log and 'loss_fusion_grad' in log
    assert 'pascal_voc/mAP' in log
    assert osp.exists(tmp_path / 'epoch_1.pth')
