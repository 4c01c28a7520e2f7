"""The effect over time: the y domain follows the later snapshots, dates fall on round
moments, and an interval past the domain is held at the edge and marked."""

from __future__ import annotations

import datetime as dt

import pytest

from analysis.engine.charts import LinearScale, later_domain, time_points, time_ticks
from analysis.engine.charts.timeline import DAY, HOUR


def test_later_domain__wide_first_band__set_by_the_later_half() -> None:
    bands = [(-2.5, 2.5), (-0.4, 0.8), (0.02, 0.3), (0.05, 0.25)]
    lo, hi = later_domain([bands])
    # The later half (0.02..0.3 and 0.05..0.25) and zero, with 10% of the span either side.
    assert lo == pytest.approx(-0.03)
    assert hi == pytest.approx(0.33)


def test_later_domain__odd_count__later_half_rounded_up() -> None:
    bands = [(-5.0, 5.0), (-1.0, 1.0), (-0.1, 0.1)]
    assert later_domain([bands], room=0) == pytest.approx((-1.0, 1.0))


def test_later_domain__one_snapshot__its_band_and_zero() -> None:
    assert later_domain([[(0.1, 0.2)]], room=0) == pytest.approx((0.0, 0.2))


def test_later_domain__every_series__each_its_own_later_half() -> None:
    first = [(-3.0, 3.0), (-0.1, 0.1)]
    second = [(-9.0, 9.0), (0.1, 0.5)]
    assert later_domain([first, second], room=0) == pytest.approx((-0.1, 0.5))


@pytest.mark.parametrize("series", [[], [[]], [[(0.0, 0.0)]], [[(float("nan"), 1.0)]]])
def test_later_domain__nothing_to_hold__the_minimum(series) -> None:
    assert later_domain(series, minimum=0.01) == (-0.01, 0.01)


def _stamp(*args: int) -> float:
    return dt.datetime(*args, tzinfo=dt.UTC).timestamp()


def test_time_ticks__two_weeks__whole_days_at_most_six() -> None:
    ticks = time_ticks(_stamp(2026, 1, 6, 12), _stamp(2026, 1, 19, 12), count=6)
    assert ticks.daily and ticks.step == 3 * DAY
    days = [dt.datetime.fromtimestamp(t, tz=dt.UTC) for t in ticks.values]
    assert [d.day for d in days] == [7, 10, 13, 16, 19]
    assert all(d.hour == 0 and d.minute == 0 for d in days)


def test_time_ticks__ten_hours__whole_hours() -> None:
    ticks = time_ticks(_stamp(2026, 1, 5, 12, 30), _stamp(2026, 1, 5, 22), count=6)
    assert not ticks.daily and ticks.step == 2 * HOUR
    hours = [dt.datetime.fromtimestamp(t, tz=dt.UTC).hour for t in ticks.values]
    assert hours == [14, 16, 18, 20, 22]


def test_time_ticks__offset__local_midnight() -> None:
    beijing = 8 * HOUR
    ticks = time_ticks(_stamp(2026, 1, 1), _stamp(2026, 1, 8), count=8, offset=beijing)
    assert ticks.step == DAY
    local = [dt.datetime.fromtimestamp(t + beijing, tz=dt.UTC) for t in ticks.values]
    assert all(d.hour == 0 for d in local) and len(local) == 7


def test_time_ticks__a_year__stays_within_the_count() -> None:
    ticks = time_ticks(_stamp(2025, 1, 1), _stamp(2026, 1, 1), count=6)
    assert 1 <= len(ticks.values) <= 6 and ticks.daily


def test_time_ticks__backwards_span__refused() -> None:
    with pytest.raises(ValueError, match="finite lo <= hi"):
        time_ticks(10.0, 0.0)


def test_time_points__band_past_the_top__held_at_the_edge_and_marked() -> None:
    x_scale = LinearScale(0, 10, 0, 100)
    y_scale = LinearScale(-0.1, 0.3, 200, 0)  # pixels grow downwards
    points = time_points(
        [0, 10], [0.5, 0.1], [-0.2, 0.0], [1.2, 0.2], x_scale=x_scale, y_scale=y_scale
    )
    early, late = points
    assert early.x == 0 and late.x == 100
    assert early.y == 0 and early.y_hi == 0 and early.y_lo == 200  # both ends at the edges
    assert early.clipped_high and early.clipped_low and early.clipped
    assert late.y == pytest.approx(100) and late.y_lo == pytest.approx(150)
    assert late.y_hi == pytest.approx(50)
    assert not late.clipped


def test_time_points__lengths_differ__refused() -> None:
    scale = LinearScale(0, 1, 0, 1)
    with pytest.raises(ValueError, match="same length"):
        time_points([0.0], [0.1, 0.2], [0.0], [0.3], x_scale=scale, y_scale=scale)
