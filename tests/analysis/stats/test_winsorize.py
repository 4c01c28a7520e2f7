import numpy as np
import pytest

from analysis.engine.stats import winsorization_bounds, winsorize


def test_winsorize__two_arms__capped_at_pooled_percentile(rng):
    a, b = rng.lognormal(0, 2, 1000), rng.lognormal(0.5, 2, 500)
    cap = np.percentile(np.concatenate([a, b]), 99)
    wa, wb = winsorize([a, b], upper_percentile=99)
    assert wa.max() <= cap and wb.max() <= cap
    np.testing.assert_array_equal(wa, np.minimum(a, cap))
    np.testing.assert_array_equal(wb, np.minimum(b, cap))


def test_winsorization_bounds__lower_and_upper__pooled_percentiles():
    a, b = np.arange(0, 50.0), np.arange(50, 101.0)
    assert winsorization_bounds([a, b], lower_percentile=5, upper_percentile=95) == (5.0, 95.0)


def test_winsorize__no_caps__values_unchanged():
    (out,) = winsorize([[1.0, 100.0]], upper_percentile=None)
    np.testing.assert_array_equal(out, [1.0, 100.0])


def test_winsorization_bounds__no_units__no_caps():
    assert winsorization_bounds([[], []]) == (None, None)


def test_winsorize__percentile_above_100__value_error_names_it():
    with pytest.raises(ValueError, match="upper_percentile must be in"):
        winsorize([[1.0]], upper_percentile=120)


def test_winsorize__nan_value__value_error():
    with pytest.raises(ValueError, match="finite"):
        winsorize([[1.0, float("nan")]])
