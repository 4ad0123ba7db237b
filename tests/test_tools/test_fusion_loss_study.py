"""The fusion-loss study's splits and run configs (no training here)."""
import os
import os.path as osp
import sys
from types import SimpleNamespace

from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis_tools'))
import fusion_loss_study as study  # noqa: E402


def fake_llvip(root, n=12):
    for sub in ('Annotations', 'infrared/train', 'visible/train'):
        os.makedirs(osp.join(root, sub))
    for i in range(n):
        open(osp.join(root, 'Annotations', f'{i:06d}.xml'), 'w').close()
        open(osp.join(root, 'visible', 'train', f'{i:06d}.jpg'), 'w').close()
    # an annotation without its image is not part of either split
    open(osp.join(root, 'Annotations', '999999.xml'), 'w').close()


def test_llvip_split_holds_out_every_fifth(tmp_path):
    root = str(tmp_path / 'llvip')
    fake_llvip(root)
    train, val = study.llvip_splits(root, str(tmp_path / 'out'))
    assert osp.isabs(train) and osp.isabs(val)
    ids = [open(p).read().split() for p in (train, val)]
    assert ids[1] == ['000004', '000009']
    assert len(ids[0]) == 10 and not set(ids[0]) & set(ids[1])


def test_run_configs_set_data_budget_seed_and_metrics(tmp_path):
    llvip = str(tmp_path / 'llvip')
    fake_llvip(llvip)
    msrs = str(tmp_path / 'msrs')
    os.makedirs(osp.join(msrs, 'splits'))
    args = SimpleNamespace(
        roots=dict(seg=msrs, det=llvip), seg_epochs=2, det_epochs=3,
        meta_steps=7, work_dir=str(tmp_path / 'wd'))
    for task, variant in (('seg', 'learned'), ('seg', 'visible'),
                          ('det', 'fixed'), ('det', 'learned')):
        cfg = Config.fromfile(study.run_config(task, variant, 5, args))
        epochs = 2 if task == 'seg' else 3
        assert cfg.train_cfg.max_epochs == epochs
        assert cfg.train_cfg.val_interval == epochs
        assert cfg.train_cfg.meta_steps == (7 if variant == 'learned' else 0)
        assert cfg.randomness.seed == 5
        assert cfg.work_dir.endswith(osp.join(task, f'{variant}_seed5'))
        for loader in (cfg.train_dataloader, cfg.val_dataloader):
            assert loader.dataset.data_root.startswith(
                msrs if task == 'seg' else llvip)
            assert loader.num_workers == 0
        train_split = cfg.train_dataloader.dataset.ann_file
        val_split = cfg.val_dataloader.dataset.ann_file
        assert train_split != val_split
        if task == 'seg':
            assert val_split.endswith('bench_val.txt')
        assert cfg.val_evaluator[-1].type == 'tdfusion_mm.FusionMetric'
        assert cfg.model.get('task_input', 'fused') == (
            'visible' if variant == 'visible' else 'fused')
