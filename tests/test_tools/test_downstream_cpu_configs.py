"""The CPU-budget downstream configs: MSRS's benchmark split and LLVIP's
held-out annotated pairs, read where the fusion-loss study puts them."""
import os
import os.path as osp

from helpers import fake_llvip
from mmengine.config import Config
from mmengine.registry import DefaultScope

from tdfusion_mm.testing import generate_demo_dataset

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(REPO, 'configs', 'downstream')


def test_msrs_bench_trains_and_tests_on_the_benchmark_split(
        tmp_path, monkeypatch):
    from mmseg.registry import DATASETS
    data = generate_demo_dataset(str(tmp_path / 'demo'), num_train=3,
                                 num_test=2, height=32, width=40, seed=1,
                                 classes=('People', 'Car'))
    root = data['msrs']['root']
    names = sorted(f[:-4] for f in os.listdir(data['msrs']['train']['vi']))
    os.makedirs(osp.join(root, 'splits'))
    for split, part in (('bench_train', names[:2]), ('bench_val', names[2:])):
        with open(osp.join(root, 'splits', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(part) + '\n')
    monkeypatch.setenv('TASK_DATA_ROOT', root + '/')
    cfg = Config.fromfile(osp.join(CONFIGS, 'segformer_mit-b0_msrs_bench.py'))
    assert cfg.model.backbone.init_cfg is None  # nothing to download
    assert tuple(cfg.model.data_preprocessor.size) == (120, 160)
    with DefaultScope.overwrite_default_scope('mmseg'):
        train = DATASETS.build(cfg.train_dataloader.dataset)
        val = DATASETS.build(cfg.test_dataloader.dataset)
    assert [osp.basename(train[i]['data_samples'].img_path)[:-4]
            for i in range(len(train))] == names[:2]
    # The held-out pairs are training pairs of MSRS, not its test folder.
    sample = val[0]['data_samples']
    assert osp.dirname(sample.img_path) == data['msrs']['train']['vi']
    # Images at the budget's size (mmseg scores at the labels' own size).
    assert val[0]['inputs'].shape[-2:] == (120, 150)
    assert sample.gt_sem_seg.data.shape[-2:] == (32, 40)


def test_llvip_held_out_reads_the_id_files_under_visible_train(
        tmp_path, monkeypatch):
    root = str(tmp_path / 'llvip')
    fake_llvip(root)
    ids = {}
    for name in ('train', 'test'):
        ids[name] = str(tmp_path / f'{name}.txt')
        with open(ids[name], 'w') as f:
            f.write('000001\n')
    monkeypatch.setenv('TASK_DATA_ROOT', root + '/')
    monkeypatch.setenv('LLVIP_TRAIN_IDS', ids['train'])
    monkeypatch.setenv('LLVIP_TEST_IDS', ids['test'])
    cfg = Config.fromfile(osp.join(CONFIGS, 'yolox_tiny_llvip_held_out.py'))
    train = cfg.train_dataloader.dataset.dataset
    assert train.ann_file == ids['train']
    for split in (train, cfg.test_dataloader.dataset):
        assert split.data_root == root + '/'
        assert split.data_prefix.img_path == 'visible/train'
    assert cfg.test_dataloader.dataset.ann_file == ids['test']
    assert tuple(cfg.train_dataloader.dataset.pipeline[0].img_scale) == (
        160, 128)
    # Trained at the size it is tested at: no batch-wise random resize.
    assert cfg.model.data_preprocessor.batch_augments is None
