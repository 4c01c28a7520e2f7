import json
from decimal import Decimal

import numpy as np
import pytest

from analysis.engine.stats import MeanStats, ProportionStats, RatioStats, stats_from_dict

from .raw import mean_stats, ratio_stats


def test_proportion_stats__negative_n__value_error_names_n():
    with pytest.raises(ValueError, match=r"ProportionStats\.n must be >= 0"):
        ProportionStats(n=-1, conversions=0)


def test_proportion_stats__conversions_above_n__value_error_names_conversions():
    with pytest.raises(ValueError, match=r"ProportionStats\.conversions must be <= n"):
        ProportionStats(n=10, conversions=11)


def test_proportion_stats__fractional_n__value_error_names_n():
    with pytest.raises(ValueError, match=r"ProportionStats\.n must be an integer"):
        ProportionStats(n=10.5, conversions=1)


def test_mean_stats__nan_sum__value_error_names_sum():
    with pytest.raises(ValueError, match=r"MeanStats\.sum must be a finite number"):
        MeanStats(n=10, sum=float("nan"), sum_squares=1.0)


def test_mean_stats__infinite_sum_squares__value_error_names_sum_squares():
    with pytest.raises(ValueError, match=r"MeanStats\.sum_squares must be a finite number"):
        MeanStats(n=10, sum=1.0, sum_squares=float("inf"))


def test_mean_stats__sum_squares_below_sum_squared_over_n__value_error():
    with pytest.raises(ValueError, match=r"MeanStats\.sum_squares is smaller than sum\*\*2 / n"):
        MeanStats(n=2, sum=10.0, sum_squares=1.0)


def test_mean_stats__partial_pre_period_fields__value_error_names_missing():
    with pytest.raises(ValueError, match="missing pre_sum_squares, cross_sum"):
        MeanStats(n=5, sum=5.0, sum_squares=10.0, pre_sum=3.0)


def test_ratio_stats__nan_denominator__value_error_names_field():
    with pytest.raises(ValueError, match=r"RatioStats\.denominator_sum must be a finite number"):
        RatioStats(5, 1.0, 1.0, float("nan"), 1.0, 1.0)


def test_mean_stats__numpy_and_decimal_values__coerced_to_plain_python():
    s = MeanStats(n=np.int64(3), sum=Decimal("6.5"), sum_squares=np.float64(20.25))
    assert type(s.n) is int and type(s.sum) is float and type(s.sum_squares) is float
    assert json.dumps(s.to_dict())


def test_mean_stats__added__equal_to_stats_of_concatenated_units(rng):
    y1, y2 = rng.normal(size=50), rng.normal(size=70)
    x1, x2 = rng.normal(size=50), rng.normal(size=70)
    total = mean_stats(y1, x1) + mean_stats(y2, x2)
    expected = mean_stats(np.concatenate([y1, y2]), np.concatenate([x1, x2]))
    for field in ("n", "sum", "sum_squares", "pre_sum", "pre_sum_squares", "cross_sum"):
        assert getattr(total, field) == pytest.approx(getattr(expected, field), rel=1e-12)


def test_proportion_stats__summed_with_builtin_sum__adds_counts():
    days = [ProportionStats(100, 10), ProportionStats(200, 30), ProportionStats(50, 0)]
    assert sum(days) == ProportionStats(n=350, conversions=40)


def test_ratio_stats__added__equal_to_stats_of_concatenated_units(rng):
    m, d = rng.gamma(2.0, size=80), rng.poisson(2.0, size=80) + 1.0
    total = ratio_stats(m[:30], d[:30]) + ratio_stats(m[30:], d[30:])
    expected = ratio_stats(m, d)
    assert total.n == expected.n
    assert total.numerator_denominator_sum == pytest.approx(expected.numerator_denominator_sum)


def test_mean_stats__added_with_and_without_pre_period__value_error():
    with pytest.raises(ValueError, match="pre-period"):
        MeanStats(2, 2.0, 2.0, 1.0, 1.0, 1.0) + MeanStats(2, 2.0, 2.0)


@pytest.mark.parametrize(
    "stats",
    [
        ProportionStats(n=3407, conversions=1200),
        MeanStats(n=3407, sum=1396.87, sum_squares=52377.9767),
        MeanStats(
            n=4, sum=0.1 + 0.2, sum_squares=0.3, pre_sum=1 / 3, pre_sum_squares=1.0, cross_sum=0.7
        ),
        RatioStats(10, 12.5, 30.25, 7.0, 9.0, 15.1),
    ],
)
def test_stats__json_round_trip__identical(stats):
    restored = stats_from_dict(json.loads(json.dumps(stats.to_dict())))
    assert restored == stats
    assert type(stats).from_dict(stats.to_dict()) == stats


def test_stats_from_dict__unknown_kind__value_error():
    with pytest.raises(ValueError, match="kind must be one of"):
        stats_from_dict({"kind": "median", "n": 1})


def test_from_dict__unknown_field__value_error_names_it():
    with pytest.raises(ValueError, match=r"unknown fields \['conversion'\]"):
        ProportionStats.from_dict({"n": 1, "conversion": 1})
