"""The folder keys of data_prefix: one convention for every paired dataset,
and a clear error for the keys of the older detection datasets."""
import pytest

from tdfusion_mm.datasets import (FMBDataset, LLVIPDataset, M3FDDataset,
                                  MSRSDataset)

DATASETS = [M3FDDataset, LLVIPDataset, MSRSDataset, FMBDataset]
NEW_KEYS = dict(img_path='visible', ir_path='infrared')


@pytest.mark.parametrize('dataset', DATASETS)
@pytest.mark.parametrize('old,new', [('vis', 'img_path'), ('ir', 'ir_path'),
                                     ('ann', 'xml_path')])
def test_old_key_names_the_dataset_and_the_new_key(tmp_path, dataset, old,
                                                   new):
    prefix = dict(NEW_KEYS, xml_path='ann')
    prefix[old] = prefix.pop(new)
    with pytest.raises(KeyError) as e:
        dataset(data_root=str(tmp_path), data_prefix=prefix, lazy_init=True)
    message = str(e.value)
    assert dataset.__name__ in message
    assert f"'{old}' is now '{new}'" in message


@pytest.mark.parametrize('dataset,missing', [(M3FDDataset, 'xml_path'),
                                             (LLVIPDataset, 'ir_path'),
                                             (MSRSDataset, 'img_path'),
                                             (FMBDataset, 'ir_path')])
def test_missing_key_is_named(tmp_path, dataset, missing):
    prefix = dict(NEW_KEYS, xml_path='ann')
    del prefix[missing]
    with pytest.raises(KeyError, match=f'{dataset.__name__} needs .*'
                       f'{missing} missing'):
        dataset(data_root=str(tmp_path), data_prefix=prefix, lazy_init=True)


@pytest.mark.parametrize('dataset', DATASETS)
def test_default_keys_are_the_data_info_keys(dataset):
    """Each default folder key is a key of the data infos it fills."""
    defaults = dataset.__init__.__defaults__
    prefix = next(d for d in defaults if isinstance(d, dict))
    assert {'img_path', 'ir_path'} <= set(prefix)
    assert set(prefix) <= {'img_path', 'ir_path', 'seg_map_path', 'xml_path'}


def test_old_key_is_a_user_error_the_tools_print_in_one_line():
    from tdfusion_mm.datasets.data_prefix import check_data_prefix
    from tdfusion_mm.utils.user_errors import UserError, user_message
    with pytest.raises(UserError) as info:
        check_data_prefix('LLVIPDataset', dict(vis='visible/train'),
                          ['img_path'])
    assert user_message(info.value).startswith(
        "LLVIPDataset: data_prefix key 'vis' is now 'img_path'")
