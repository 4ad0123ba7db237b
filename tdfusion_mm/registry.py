"""Child registries of mmengine's roots under the ``tdfusion_mm`` scope.

Each registry names the modules that fill it in ``locations`` so that a config
can refer to ``tdfusion_mm.<Type>`` (or set ``_scope_='tdfusion_mm'``) without
importing anything first.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as \
    MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import Registry

MODELS = Registry(
    'model', parent=MMENGINE_MODELS, scope='tdfusion_mm',
    locations=['tdfusion_mm.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, scope='tdfusion_mm',
    locations=['tdfusion_mm.models'])
DATASETS = Registry(
    'dataset', parent=MMENGINE_DATASETS, scope='tdfusion_mm',
    locations=['tdfusion_mm.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMENGINE_DATA_SAMPLERS, scope='tdfusion_mm',
    locations=['tdfusion_mm.datasets'])
TRANSFORMS = Registry(
    'transform', parent=MMENGINE_TRANSFORMS, scope='tdfusion_mm',
    locations=['tdfusion_mm.datasets.transforms'])
LOOPS = Registry(
    'loop', parent=MMENGINE_LOOPS, scope='tdfusion_mm',
    locations=['tdfusion_mm.engine'])
HOOKS = Registry(
    'hook', parent=MMENGINE_HOOKS, scope='tdfusion_mm',
    locations=['tdfusion_mm.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS, scope='tdfusion_mm',
    locations=['tdfusion_mm.engine'])
METRICS = Registry(
    'metric', parent=MMENGINE_METRICS, scope='tdfusion_mm',
    locations=['tdfusion_mm.evaluation'])
VISUALIZERS = Registry(
    'visualizer', parent=MMENGINE_VISUALIZERS, scope='tdfusion_mm',
    locations=['tdfusion_mm.visualization'])

# Every module named in some ``locations`` above; tested to import.
REGISTRY_LOCATIONS = sorted({
    loc for reg in (MODELS, MODEL_WRAPPERS, DATASETS, DATA_SAMPLERS, TRANSFORMS,
                    LOOPS, HOOKS, OPTIM_WRAPPER_CONSTRUCTORS, METRICS,
                    VISUALIZERS)
    for loc in reg._locations
})
