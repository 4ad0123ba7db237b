"""The fixed probe batch the hooks watch G and F on."""
from mmengine.dataset import pseudo_collate
from torch import nn


def read_probe(model: nn.Module, dataloader, count: int) -> dict:
    """The first ``count`` samples of ``dataloader``'s dataset, collated and
    passed through the model's data preprocessor (not in training mode).

    The samples are read from the dataset directly, not through an
    iterator of the dataloader: an unfinished iterator could disturb a
    stateful batch sampler.

    Returns:
        dict: ``inputs`` (``ir``, ``vis``) and ``data_samples``.
    """
    dataset = dataloader.dataset
    count = min(count, len(dataset))
    batch = pseudo_collate([dataset[i] for i in range(count)])
    return model.data_preprocessor(batch, False)
