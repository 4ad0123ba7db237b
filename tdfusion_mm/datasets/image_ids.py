"""The image ids of a split: listed in a split file, or the images of a
folder."""
from typing import List, Optional

from mmengine.fileio import exists, list_dir_or_file, list_from_file


def load_ids(ann_file: str,
             image_dir: Optional[str],
             img_suffix: str,
             backend_args: Optional[dict] = None) -> List[str]:
    """Read the image ids of ``ann_file`` (one per line), or list the
    ``img_suffix`` images of ``image_dir`` when there is no split file.

    Returns:
        list[str]: The ids, without blank lines (sorted when listed).

    Raises:
        FileNotFoundError: The split file does not exist, or the folder
            holds no such image.
    """
    if ann_file:
        if not exists(ann_file, backend_args=backend_args):
            raise FileNotFoundError(
                f'The split file does not exist: {ann_file}')
        lines = list_from_file(ann_file, backend_args=backend_args)
        return [line.strip() for line in lines if line.strip()]
    files = list_dir_or_file(
        image_dir, list_dir=False, suffix=img_suffix,
        backend_args=backend_args)
    ids = sorted(f[:-len(img_suffix)] for f in files)
    if not ids:
        raise FileNotFoundError(f'No {img_suffix} image in {image_dir}')
    return ids
