"""SVG chart geometry: a bar's ends sit at the interval's bounds on the drawn scale."""

from __future__ import annotations

import pytest

from analysis.engine.charts import (
    LinearScale,
    interval_bar,
    line_with_band,
    nice_ticks,
    shared_domain,
)


def test_scale__ends_and_middle__map_linearly() -> None:
    scale = LinearScale(lo=-0.2, hi=0.2, start=10, end=210)
    assert scale(-0.2) == pytest.approx(10)
    assert scale(0.2) == pytest.approx(210)
    assert scale(0.0) == pytest.approx(110)
    assert scale(0.1) == pytest.approx(160)


@pytest.mark.parametrize(("lo", "hi"), [(0.0, 0.0), (1.0, -1.0), (float("nan"), 1.0)])
def test_scale__empty_or_bad_domain__refused(lo, hi) -> None:
    with pytest.raises(ValueError, match="finite lo < hi"):
        LinearScale(lo=lo, hi=hi, start=0, end=100)


def test_interval_bar__bounds__ends_at_the_scaled_bounds() -> None:
    scale = LinearScale(lo=-0.5, hi=0.5, start=0, end=400)
    bar = interval_bar(
        scale, lo=0.05, hi=0.25, estimate=0.15, significant=True, higher_is_better=True
    )
    assert bar.x_lo == pytest.approx(220)  # 0 + (0.55) * 400
    assert bar.x_hi == pytest.approx(300)
    assert bar.x_mid == pytest.approx(260)
    assert bar.x_zero == pytest.approx(200)
    assert bar.tone == "better"
    assert not bar.clipped_lo and not bar.clipped_hi


@pytest.mark.parametrize(
    ("estimate", "significant", "higher_is_better", "tone"),
    [
        (0.1, True, True, "better"),
        (-0.1, True, True, "worse"),
        (-0.1, True, False, "better"),  # lower is better: a drop is good
        (0.1, True, False, "worse"),
        (0.1, False, True, "inconclusive"),
    ],
)
def test_interval_bar__direction__tone_follows_the_metric(
    estimate, significant, higher_is_better, tone
) -> None:
    scale = LinearScale(lo=-1, hi=1, start=0, end=100)
    bar = interval_bar(
        scale,
        lo=estimate - 0.05,
        hi=estimate + 0.05,
        estimate=estimate,
        significant=significant,
        higher_is_better=higher_is_better,
    )
    assert bar.tone == tone


def test_interval_bar__past_the_domain__clipped_and_flagged() -> None:
    scale = LinearScale(lo=-0.1, hi=0.1, start=0, end=200)
    bar = interval_bar(
        scale, lo=-0.3, hi=0.05, estimate=-0.12, significant=False, higher_is_better=True
    )
    assert bar.x_lo == 0 and bar.clipped_lo
    assert bar.x_mid == 0
    assert bar.x_hi == pytest.approx(150) and not bar.clipped_hi


def test_interval_bar__reversed_bounds__refused() -> None:
    scale = LinearScale(lo=-1, hi=1, start=0, end=100)
    with pytest.raises(ValueError, match="above its upper bound"):
        interval_bar(scale, lo=0.2, hi=0.1, estimate=0.15, significant=False, higher_is_better=True)


def test_shared_domain__widest_interval__symmetric_with_room() -> None:
    lo, hi = shared_domain([(-0.02, 0.08), (None, None), (0.01, 0.03), (float("inf"), 1.0)])
    assert hi == pytest.approx(1.1) and lo == pytest.approx(-1.1)
    assert shared_domain([]) == (-0.01, 0.01)


def test_nice_ticks__percent_domain__round_values_including_zero() -> None:
    scale = LinearScale(lo=-0.12, hi=0.12, start=0, end=300)
    ticks = nice_ticks(scale, count=4)
    values = [t.value for t in ticks]
    assert 0.0 in values
    assert values == sorted(values)
    assert all(scale.lo - 1e-12 <= v <= scale.hi + 1e-12 for v in values)
    steps = {round(b - a, 9) for a, b in zip(values, values[1:], strict=False)}
    assert len(steps) == 1
    zero = next(t for t in ticks if t.value == 0)
    assert zero.label == "0%" and zero.x == pytest.approx(150)
    assert ticks[-1].label.startswith("+") and ticks[-1].label.endswith("%")


def test_line_with_band__points__line_through_estimates_band_closed() -> None:
    x = LinearScale(lo=0, hi=2, start=0, end=200)
    y = LinearScale(lo=-1, hi=1, start=100, end=0)  # SVG y grows downwards
    band = line_with_band(
        [0, 1, 2], [0.0, 0.5, 0.2], [-0.5, 0.1, -0.1], [0.5, 0.9, 0.5], x_scale=x, y_scale=y
    )
    assert band.points == [(0, 50), (100, 25), (200, 40)]
    assert band.line == "M0,50 L100,25 L200,40"
    assert band.band.startswith("M0,25 L100,5 L200,25 L200,55 L100,45 L0,75")
    assert band.band.endswith("Z")


def test_line_with_band__mismatched_lengths__refused() -> None:
    x = LinearScale(lo=0, hi=1, start=0, end=10)
    with pytest.raises(ValueError, match="same length"):
        line_with_band([0, 1], [0.1], [0.0], [0.2], x_scale=x, y_scale=x)


@pytest.mark.parametrize(
    ("lo", "hi", "labels"),
    [
        (-0.05, 0.05, ["-5.0%", "-2.5%", "0%", "+2.5%", "+5.0%"]),
        (-0.2, 0.2, ["-20%", "-10%", "0%", "+10%", "+20%"]),
        (-0.005, 0.005, ["-0.50%", "-0.25%", "0%", "+0.25%", "+0.50%"]),
    ],
)
def test_nice_ticks__step_of_two_and_a_half__labels_say_the_tick_values(lo, hi, labels) -> None:
    ticks = nice_ticks(LinearScale(lo, hi, 0, 300), count=4)
    assert [t.label for t in ticks] == labels
    for t in ticks:  # each label is its tick's value
        assert float(t.label.rstrip("%")) == pytest.approx(t.value * 100)
