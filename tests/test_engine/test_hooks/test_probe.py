"""read_probe: the hooks' fixed batch, read from the dataset directly."""
from types import SimpleNamespace

from tdfusion_mm.engine.hooks.probe import read_probe


class Recorder:
    """A data preprocessor that returns what it was given."""

    def __call__(self, batch, training):
        assert training is False
        return batch


def test_first_samples_of_the_dataset_not_an_iterator():
    dataset = [dict(inputs=i, data_samples=f's{i}') for i in range(5)]
    loader = SimpleNamespace(dataset=dataset)  # no __iter__: never iterated
    model = SimpleNamespace(data_preprocessor=Recorder())
    assert read_probe(model, loader, 3) == dict(inputs=[0, 1, 2],
                                                data_samples=['s0', 's1',
                                                              's2'])
    assert len(read_probe(model, loader, 10)['inputs']) == 5
