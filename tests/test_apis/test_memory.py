"""The memory estimate refuses a fusion that would not fit, early."""
import pytest

from tdfusion_mm.apis import UserError, memory


def test_estimate_grows_with_pixels_and_bands_save():
    small = memory.estimate_fusion_memory((480, 640), 32768)
    large = memory.estimate_fusion_memory((4000, 6000), 32768)
    whole = memory.estimate_fusion_memory((4000, 6000), 0)
    assert small < 1 << 30 < large < whole
    # a 4000x6000 pair (24 megapixels) needs over 10 GB even with bands
    assert large > 10 << 30


def test_check_refuses_with_estimate_and_a_size_that_fits(monkeypatch):
    monkeypatch.setattr(memory, 'available_memory', lambda: 4 << 30)
    memory.check_fusion_memory((1800, 1800), 32768, 'a.png')  # fits
    with pytest.raises(UserError) as info:
        memory.check_fusion_memory((4000, 6000), 32768, 'big.png')
    message = str(info.value)
    assert message.startswith('big.png: fusing 4000x6000 pixels needs about')
    assert '4.0 GB are available' in message
    fit = message.split('at most about ')[1].split(' ')[0]
    h, w = (int(v) for v in fit.split('x'))
    assert memory.estimate_fusion_memory((h, w), 32768) <= 4 << 30
    assert abs(h / w - 4000 / 6000) < 0.01
