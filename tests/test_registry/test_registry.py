"""Registries: locations import, every registered type builds from a dict."""
import copy
import importlib
import subprocess
import sys
from functools import partial

import pytest
import torch
from mmengine.optim import AmpOptimWrapper
from mmengine.registry import DefaultScope, init_default_scope
from mmengine.runner import Runner

from tdfusion_mm import registry as R


@pytest.mark.parametrize('location', R.REGISTRY_LOCATIONS)
def test_every_location_imports(location):
    assert importlib.import_module(location).__name__ == location


@pytest.mark.parametrize('reg', R.ALL_REGISTRIES, ids=lambda r: r.name)
def test_locations_name_where_the_types_are(reg):
    """A registry has locations iff we register types in it, and every
    type is defined at or below one of them."""
    for location in reg._locations:
        importlib.import_module(location)
    modules = {cls.__module__ for cls in reg.module_dict.values()}
    assert bool(reg._locations) == bool(modules), (reg.name, modules)
    for module in modules:
        assert any(module == loc or module.startswith(loc + '.')
                   for loc in reg._locations), (reg.name, module)


def test_registries_are_children_of_mmengine_roots():
    from mmengine import registry as root
    roots = [v for v in vars(root).values() if isinstance(v, type(R.MODELS))]
    for reg in R.ALL_REGISTRIES:
        assert reg.scope == 'tdfusion_mm'
        assert any(reg.parent is r for r in roots), reg.name


def test_config_names_our_types_without_imports():
    """A fresh interpreter finds tdfusion_mm types through `locations`."""
    code = ('from mmengine.registry import MODELS\n'
            "net = MODELS.build(dict(type='tdfusion_mm.ReFusion'))\n"
            "print(type(net).__module__)")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert 'tdfusion_mm.models.fusion_backbones' in out.stdout


@pytest.mark.parametrize('scope', ['mmdet', 'mmseg', 'tdfusion_mm'])
def test_prefixed_types_build_under_any_default_scope(scope):
    with DefaultScope.overwrite_default_scope(scope):
        net = R.MODELS.build(dict(type='tdfusion_mm.LossGenerationModule'))
    assert type(net).__name__ == 'LossGenerationModule'


def built_configs(demo_cfg, demo_root):
    """A config dict for every registered type, and how to build it."""
    m3fd = f'{demo_root}/m3fd/'
    runner_cfg = copy.deepcopy(demo_cfg)
    runner_cfg.work_dir = f'{demo_root}/../work_registry'
    optim = copy.deepcopy(demo_cfg.optim_wrapper)
    constructor = optim.pop('constructor')
    return {
        R.MODELS: {
            'ReFusion': dict(type='ReFusion'),
            'PassThroughFusion': dict(type='PassThroughFusion',
                                      source='visible'),
            'GradientDenseFusion': dict(type='GradientDenseFusion',
                                        channels=4),
            'LossGenerationModule': dict(type='LossGenerationModule'),
            'FixedLossWeights': dict(type='FixedLossWeights', w_ir=0.3),
            'LearnableFusionLoss': dict(type='LearnableFusionLoss',
                                        alpha_int=2.0),
            'FusionDataPreprocessor': dict(type='FusionDataPreprocessor',
                                           pad_size_divisor=32),
            'TDFusion': copy.deepcopy(demo_cfg.model),
        },
        R.DATASETS: {
            'M3FDDataset': dict(type='M3FDDataset', data_root=m3fd,
                                ann_file='splits/train.txt'),
            'LLVIPDataset': dict(type='LLVIPDataset', data_root=m3fd,
                                 data_prefix=dict(img_path='Vis',
                                                  ir_path='Ir',
                                                  xml_path='Annotation'),
                                 img_suffix='.png', lazy_init=True),
            'MSRSDataset': dict(type='MSRSDataset',
                                data_root=f'{demo_root}/msrs/'),
            'FMBDataset': dict(type='FMBDataset',
                               data_root=f'{demo_root}/msrs/',
                               data_prefix=dict(img_path='test/vi',
                                                ir_path='test/ir',
                                                seg_map_path='test/Label')),
        },
        R.TRANSFORMS: {
            'LoadIrVisFromFile': dict(type='LoadIrVisFromFile'),
            'LoadSegAnnotations': dict(type='LoadSegAnnotations'),
            'LoadDetAnnotations': dict(type='LoadDetAnnotations'),
            'RandomFusionCrop': dict(type='RandomFusionCrop', crop_size=32),
            'PairedTransform': dict(
                type='PairedTransform',
                transforms=[dict(type='mmdet.RandomFlip', prob=0.5)]),
            'PackFusionDetInputs': dict(type='PackFusionDetInputs'),
            'PackFusionSegInputs': dict(type='PackFusionSegInputs'),
        },
        R.HOOKS: {
            'LearnableFusionLossHook': dict(type='LearnableFusionLossHook',
                                            interval=5),
            'SafeCheckpointHook': dict(type='SafeCheckpointHook'),
            'FusionVisualizationHook': dict(type='FusionVisualizationHook',
                                            interval=5),
            'LoadOptimizerStateHook': dict(type='LoadOptimizerStateHook',
                                           checkpoint='stage1.pth'),
        },
        R.METRICS: {
            'FusionMetric': dict(type='FusionMetric', reduce='sum'),
        },
        R.OPTIM_WRAPPERS: {
            name: partial(build_optim_wrapper, name)
            for name in ('BF16OptimWrapper', 'NonFiniteSkipOptimWrapper',
                         'NonFiniteSkipAmpOptimWrapper')
        },
        R.OPTIM_WRAPPER_CONSTRUCTORS: {
            'MultiOptimWrapperConstructor': dict(
                type=constructor, optim_wrapper_cfg=optim),
        },
        R.LOG_PROCESSORS: {
            'MetaFusionLogProcessor': dict(type='MetaFusionLogProcessor'),
        },
        R.LOOPS: {
            'MetaFusionTrainLoop': lambda: Runner.from_cfg(
                runner_cfg).build_train_loop(runner_cfg.train_cfg),
        },
    }


def build_optim_wrapper(name):
    """An optimizer wrapper of one parameter; an AMP one only on a GPU
    (mmengine's refuses a machine without), else its bare instance."""
    cls = R.OPTIM_WRAPPERS.get(name)
    if issubclass(cls, AmpOptimWrapper) and not torch.cuda.is_available():
        return cls.__new__(cls)
    return R.OPTIM_WRAPPERS.build(dict(
        type=name,
        optimizer=torch.optim.SGD([torch.zeros(1, requires_grad=True)],
                                  lr=0.1)))


def test_every_registered_type_builds(demo_cfg, demo_root):
    init_default_scope('tdfusion_mm')
    table = built_configs(demo_cfg, demo_root)
    for reg in R.ALL_REGISTRIES:
        registered = set(reg.module_dict)
        assert registered == set(table.get(reg, {})), (
            f'{reg.name}: registered {sorted(registered)}; add a config for '
            'every type to this test')
        for name, cfg in table.get(reg, {}).items():
            obj = cfg() if callable(cfg) else reg.build(cfg)
            assert type(obj).__name__ == name


def test_unknown_type_names_registry_and_scope():
    init_default_scope('tdfusion_mm')
    with pytest.raises(KeyError, match=r'ReFusoin is not in the '
                       r'tdfusion_mm::model registry'):
        R.MODELS.build(dict(type='ReFusoin'))
    with pytest.raises(KeyError, match=r'tdfusion_mm::transform'):
        R.TRANSFORMS.build(dict(type='LoadIrVisFromFiles'))
