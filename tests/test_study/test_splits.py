"""The study's data splits: the held-out LLVIP pairs."""
import os.path as osp

from helpers import fake_llvip

from tdfusion_mm.study.splits import llvip_splits


def test_llvip_split_holds_out_every_fifth(tmp_path):
    root = str(tmp_path / 'llvip')
    fake_llvip(root)
    train, val = llvip_splits(root, str(tmp_path / 'out'))
    assert osp.isabs(train) and osp.isabs(val)
    ids = [open(p).read().split() for p in (train, val)]
    assert ids[1] == ['000004', '000009']
    assert len(ids[0]) == 10 and not set(ids[0]) & set(ids[1])
