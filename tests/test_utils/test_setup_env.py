"""register_all_modules: our registries filled, our default scope set."""
import pytest
from mmengine.registry import DefaultScope

from tdfusion_mm.registry import HOOKS, LOOPS, MODELS, TRANSFORMS
from tdfusion_mm.utils import register_all_modules


def test_registers_every_part_and_sets_the_scope():
    register_all_modules()
    assert 'TDFusion' in MODELS.module_dict
    assert 'MetaFusionTrainLoop' in LOOPS.module_dict
    assert 'SafeCheckpointHook' in HOOKS.module_dict
    assert 'PackFusionDetInputs' in TRANSFORMS.module_dict
    assert DefaultScope.get_current_instance().scope_name == 'tdfusion_mm'


def test_another_current_scope_is_replaced_with_a_warning():
    register_all_modules()  # a `tdfusion_mm` scope exists
    with DefaultScope.overwrite_default_scope('mmdet'):
        with pytest.warns(UserWarning, match='"mmdet" is not "tdfusion_mm"'):
            register_all_modules()
        assert DefaultScope.get_current_instance().scope_name == \
            'tdfusion_mm'
