"""Child registries of mmengine's roots under the ``tdfusion_mm`` scope.

Every root registry of mmengine gets a child here, so that the runner finds
one in our scope (no fall-back warnings). Registries that we fill name the
modules that fill them in ``locations``, so that a config can refer to
``tdfusion_mm.<Type>`` (or use ``default_scope='tdfusion_mm'``) without
importing anything first.
"""
from mmengine import registry as root
from mmengine.registry import Registry

SCOPE = 'tdfusion_mm'


def _child(parent: Registry, locations=()) -> Registry:
    return Registry(parent.name, parent=parent, scope=SCOPE,
                    locations=list(locations))


RUNNERS = _child(root.RUNNERS)
RUNNER_CONSTRUCTORS = _child(root.RUNNER_CONSTRUCTORS)
LOOPS = _child(root.LOOPS, ['tdfusion_mm.engine'])
HOOKS = _child(root.HOOKS, ['tdfusion_mm.engine'])
DATASETS = _child(root.DATASETS, ['tdfusion_mm.datasets'])
DATA_SAMPLERS = _child(root.DATA_SAMPLERS)
TRANSFORMS = _child(root.TRANSFORMS, ['tdfusion_mm.datasets.transforms'])
# The algorithm and the data preprocessor are not imported by
# ``tdfusion_mm.models`` itself (see there).
MODELS = _child(root.MODELS, [
    'tdfusion_mm.models', 'tdfusion_mm.models.algorithms',
    'tdfusion_mm.models.data_preprocessors'
])
MODEL_WRAPPERS = _child(root.MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child(root.WEIGHT_INITIALIZERS)
OPTIMIZERS = _child(root.OPTIMIZERS)
OPTIM_WRAPPERS = _child(root.OPTIM_WRAPPERS, ['tdfusion_mm.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = _child(root.OPTIM_WRAPPER_CONSTRUCTORS,
                                    ['tdfusion_mm.engine'])
PARAM_SCHEDULERS = _child(root.PARAM_SCHEDULERS)
METRICS = _child(root.METRICS, ['tdfusion_mm.evaluation'])
EVALUATOR = _child(root.EVALUATOR)
TASK_UTILS = _child(root.TASK_UTILS)
VISUALIZERS = _child(root.VISUALIZERS)
VISBACKENDS = _child(root.VISBACKENDS)
LOG_PROCESSORS = _child(root.LOG_PROCESSORS, ['tdfusion_mm.engine'])
INFERENCERS = _child(root.INFERENCERS)
FUNCTIONS = _child(root.FUNCTIONS)

ALL_REGISTRIES = (RUNNERS, RUNNER_CONSTRUCTORS, LOOPS, HOOKS, DATASETS,
                  DATA_SAMPLERS, TRANSFORMS, MODELS, MODEL_WRAPPERS,
                  WEIGHT_INITIALIZERS, OPTIMIZERS, OPTIM_WRAPPERS,
                  OPTIM_WRAPPER_CONSTRUCTORS, PARAM_SCHEDULERS, METRICS,
                  EVALUATOR, TASK_UTILS, VISUALIZERS, VISBACKENDS,
                  LOG_PROCESSORS, INFERENCERS, FUNCTIONS)

# Every module named in some ``locations`` above; tested to import.
REGISTRY_LOCATIONS = sorted(
    {loc for reg in ALL_REGISTRIES for loc in reg._locations})
