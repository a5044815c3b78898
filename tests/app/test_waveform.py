import numpy as np
import pytest

from app.waveform import envelope


def test_envelope_keeps_min_and_max_of_every_bin():
    rng = np.random.default_rng(0)
    samples = rng.uniform(-0.5, 0.5, size=10_000).astype(np.float32)
    samples[1234] = 0.99  # a click that plain subsampling would drop
    samples[8765] = -0.98

    x, y = envelope(samples, 100)

    assert x.shape == y.shape == (200,)
    assert y.dtype == np.float32
    bins = samples.reshape(100, 100)  # 10,000 samples split evenly
    np.testing.assert_array_equal(y[0::2], bins.min(axis=1))
    np.testing.assert_array_equal(y[1::2], bins.max(axis=1))
    assert y.max() == pytest.approx(0.99)
    assert y.min() == pytest.approx(-0.98)
    # min at each bin's first sample, max at its last: the input's x-range
    assert x[0] == 0 and x[-1] == samples.size - 1
    np.testing.assert_array_equal(x[0::2], np.arange(0, 10_000, 100))
    np.testing.assert_array_equal(x[1::2], np.arange(99, 10_000, 100))
    assert np.all(np.diff(x) > 0)


def test_envelope_of_uneven_bins_covers_every_sample():
    samples = np.sin(np.linspace(0, 20 * np.pi, 1_001)).astype(np.float32)
    x, y = envelope(samples, 7)
    assert x.shape == (14,)
    assert x[0] == 0 and x[-1] == 1_000
    assert y.max() == pytest.approx(samples.max())
    assert y.min() == pytest.approx(samples.min())


def test_short_input_is_returned_as_it_is():
    samples = np.array([0.1, -0.2, 0.3], dtype=np.float32)
    x, y = envelope(samples, 10)
    np.testing.assert_array_equal(x, [0, 1, 2])
    np.testing.assert_array_equal(y, samples)
    y[0] = 5.0
    assert samples[0] == np.float32(0.1)  # a copy, not a view of the caller's array


def test_empty_input_gives_empty_arrays():
    x, y = envelope(np.zeros(0, dtype=np.float32), 50)
    assert x.shape == y.shape == (0,)


@pytest.mark.parametrize("n_bins", [0, -3])
def test_bins_must_be_positive(n_bins):
    with pytest.raises(ValueError, match="n_bins"):
        envelope(np.zeros(10), n_bins)


def test_stereo_is_refused():
    with pytest.raises(ValueError, match="mono"):
        envelope(np.zeros((10, 2)), 4)
