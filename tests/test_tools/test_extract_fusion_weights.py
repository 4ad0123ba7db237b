"""tools/model_converters/extract_fusion_weights.py keeps F alone."""
import pytest
import torch
from helpers import load_tool

from tdfusion_mm.utils.user_errors import UserError


def test_keeps_fusion_weights_only(tmp_path):
    tool = load_tool('tools/model_converters/extract_fusion_weights.py')
    src, out = tmp_path / 'epoch_1.pth', tmp_path / 'sub' / 'f.pth'
    torch.save(dict(state_dict={'fusion_backbone.conv.weight': torch.ones(2),
                                'task_model.head.weight': torch.zeros(3)},
                    meta=dict(epoch=1)), src)
    tool.main(tool.parse_args([str(src), str(out)]))
    saved = torch.load(out, weights_only=True)
    assert list(saved) == ['state_dict']
    assert list(saved['state_dict']) == ['fusion_backbone.conv.weight']
    assert list(tmp_path.joinpath('sub').iterdir()) == [out]  # no temp file

    torch.save(dict(state_dict={'task_model.w': torch.zeros(1)}), src)
    with pytest.raises(UserError, match='no fusion_backbone'):
        tool.main(tool.parse_args([str(src), str(tmp_path / 'g.pth')]))
