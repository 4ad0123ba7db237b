"""The model index: trained fusion networks shipped with the package, by
name (``FusionInferencer('refusion_msrs_learned')``).

The index is ``tdfusion_mm/model_zoo/metafile.yml`` in mmdet's metafile
style: each entry of ``Models`` has a ``Name``, the training ``Config``, the
``Fusion Backbone`` (F's config) and its ``Weights`` (a file beside the
index holding F's state dict, keys ``fusion_backbone.*``).
"""
import os.path as osp
from typing import Dict, List, Optional, Tuple

from mmengine.config import Config

from tdfusion_mm.utils.user_errors import UserError

MODEL_ZOO = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                     'model_zoo')
INDEX_FILE = osp.join(MODEL_ZOO, 'metafile.yml')


def load_model_index(path: str = INDEX_FILE) -> Dict[str, dict]:
    """Entries of a metafile by name, ``Weights`` made absolute.

    Raises:
        UserError: The file is missing or malformed, or an entry lacks a
            key or repeats a name.
    """
    import yaml
    try:
        with open(path) as f:
            index = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as err:
        raise UserError(f'cannot read the model index {path}: {err}') from err
    models = index.get('Models') if isinstance(index, dict) else None
    if not isinstance(models, list):
        raise UserError(f'{path}: no list under "Models"')
    entries = {}
    for i, entry in enumerate(models):
        for key in ('Name', 'Fusion Backbone', 'Weights'):
            if key not in entry:
                raise UserError(f'{path}: model {i} has no "{key}"')
        name = entry['Name']
        if name in entries:
            raise UserError(f'{path}: the name {name} is given twice')
        entries[name] = dict(entry, Weights=osp.join(osp.dirname(path),
                                                     entry['Weights']))
    return entries


def model_names(path: str = INDEX_FILE) -> List[str]:
    """Names of the trained models in the index."""
    return sorted(load_model_index(path))


def resolve_model(name: str,
                  path: str = INDEX_FILE) -> Tuple[Config, str]:
    """F's config (``model.fusion_backbone``) and weights file of a model
    named in the index.

    Raises:
        UserError: An unknown name (the error lists the names), or weights
            missing from the package.
    """
    entries = load_model_index(path)
    if name not in entries:
        raise UserError(
            f'{name!r} is neither a config file nor a trained model; the '
            f'model index ({path}) has: {", ".join(sorted(entries))}')
    entry = entries[name]
    if not osp.isfile(entry['Weights']):
        raise UserError(f'the weights of {name} are missing: '
                        f'{entry["Weights"]}')
    cfg = Config(dict(model=dict(
        fusion_backbone=dict(entry['Fusion Backbone']))))
    return cfg, entry['Weights']


def is_model_name(model: object, weights: Optional[str]) -> bool:
    """Whether a ``FusionInferencer`` argument names an index entry: a
    string that is not a file, given without weights."""
    return isinstance(model, str) and weights is None and \
        not osp.isfile(model)
