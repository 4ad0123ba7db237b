"""The folder keys of a paired dataset's ``data_prefix``.

Each key is named after the data-info key it fills: ``img_path`` (the
visible images), ``ir_path`` (the infrared images), ``seg_map_path`` (the
label maps of a segmentation dataset) and ``xml_path`` (the Pascal VOC
files of a detection dataset).
"""
from typing import Sequence

from tdfusion_mm.utils.user_errors import ConfigKeyError

# The keys of an older release, and the keys that replaced them.
RENAMED_KEYS = dict(vis='img_path', ir='ir_path', ann='xml_path')


def check_data_prefix(dataset: str, data_prefix: dict,
                      required: Sequence[str]) -> None:
    """Raise an error naming the dataset and the key for an old or a missing
    folder key.

    Args:
        dataset (str): The dataset's class name, for the message.
        data_prefix (dict): The folders, as given to the dataset.
        required (Sequence[str]): The keys the dataset cannot do without.

    Raises:
        ConfigKeyError: (a ``KeyError``) ``data_prefix`` has an old key
            (``vis``, ``ir``, ``ann``) or lacks a required one.
    """
    for old, new in RENAMED_KEYS.items():
        if old in data_prefix:
            raise ConfigKeyError(
                f'{dataset}: data_prefix key {old!r} is now {new!r} (the '
                f'keys are named after the data-info keys they fill); '
                f'got {data_prefix}')
    missing = [key for key in required if key not in data_prefix]
    if missing:
        raise ConfigKeyError(f'{dataset} needs data_prefix keys '
                       f'{", ".join(required)}; {", ".join(missing)} '
                       f'missing in {data_prefix}')
