"""Sample ratio mismatch inside an experiment: per segment and per exposure day (pure).

An overall split can be exactly as the weights say while one browser's or one day's split is
broken (a crash that loses one variant's exposures on Safari, a release that logs exposures
twice for one day): the two cancel out in the totals. So each segment dimension and the
exposure days are checked as well.

**Families and correction.** A dimension's segments (one attribute's top values and
``other``) are one family, and the exposure days are another. Each unit is in exactly one
segment of a dimension and one day, so the tests of a family are on disjoint units. Their
p-values are adjusted by Holm's step-down (``adjust_p_values(..., "holm")``), which keeps
the chance of any false alarm in a family at the threshold whatever the dependence between
the tests. Holm rather than Benjamini–Hochberg because the question is "is any segment (or
day) broken?", a family-wise question whose false "yes" holds a decision: BH controls the
share of false alarms among those raised, which gives no bound on the chance that one is
raised when the family has a few real imbalances, and costs little power here, where a broken
segment's p-value is far below the threshold (5e-89 in the audit's example).

**Levels.** A segment (or day) is flagged when its Holm-adjusted p-value is below
``SEGMENT_SRM_WARNING`` (0.001, the overall check's error threshold, now per family): a
health warning. A segment is *extreme* when its adjusted p-value is below
``SEGMENT_SRM_EXTREME`` (1e-6): a health error, and the decision is held at keep running.
At 1e-6 a correctly split experiment with 30 dimensions read at 1,000 refreshes holds its
decision by chance in at most 3% of runs (30 x 1,000 x 1e-6; less, as the reads share their
data), while a segment whose split is off by 10 points (45% / 55%) reaches it at about
2,500 units (3,000 in a dimension of 20 segments). Days only warn: a day's units are a small
part of a long experiment, and the overall and segment checks hold the decision when a broken
day's units are enough to bias it. With a single exposure day, or when the overall split is
itself an error, the day check is left out: the overall check already says it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from analysis.engine.contract import SegmentResult, SnapshotInputs
from analysis.engine.contract.convert import num
from analysis.engine.stats import adjust_p_values, srm_check

SEGMENT_SRM_WARNING = 0.001  # Holm-adjusted p below this: a health warning
SEGMENT_SRM_EXTREME = 1e-6  # Holm-adjusted p below this (segments): an error, decision held
SRM_CORRECTION = "holm"
DAY = "exposure_day"  # the family name of the exposure days


@dataclass(frozen=True)
class SrmAlarm:
    """One segment's (or one day's) split that survives the correction across its family."""

    family: str  # the segment attribute, or ``DAY``
    value: str  # the segment value, or the day (ISO date)
    p: float  # the chi-square p-value of this segment alone
    p_adjusted: float  # Holm-adjusted across the family
    units: int
    observed: dict[str, int]
    expected: dict[str, float]
    family_size: int

    @property
    def extreme(self) -> bool:
        return self.p_adjusted < SEGMENT_SRM_EXTREME

    def params(self) -> dict[str, object]:
        """The alarm's values as a coded message carries them."""
        return {
            "value": self.value,
            "p": self.p,
            "p_adjusted": self.p_adjusted,
            "units": self.units,
            "observed": dict(self.observed),
            "expected": dict(self.expected),
        }


def _flagged(
    family: str, tests: Sequence[tuple[str, float, int, dict[str, int], dict[str, float]]]
) -> list[SrmAlarm]:
    if not tests:
        return []
    adjusted = adjust_p_values([t[1] for t in tests], SRM_CORRECTION)
    alarms = [
        SrmAlarm(family, value, p, q, units, observed, expected, len(tests))
        for (value, p, units, observed, expected), q in zip(tests, adjusted, strict=True)
        if q < SEGMENT_SRM_WARNING
    ]
    return sorted(alarms, key=lambda a: (a.p, a.value))


def segment_srm_alarms(segments: Sequence[SegmentResult]) -> dict[str, list[SrmAlarm]]:
    """Attribute -> its segments whose split is broken after Holm's correction across the
    attribute's segments (most significant first); attributes without any are left out."""
    families: dict[str, list[tuple[str, float, int, dict[str, int], dict[str, float]]]] = {}
    for s in segments:
        p = s.srm.p_value
        if s.units <= 0 or p is None:
            continue
        expected = {k: float(v or 0.0) for k, v in s.srm.expected.items()}
        families.setdefault(s.attribute, []).append(
            (s.value, float(p), s.units, dict(s.srm.observed), expected)
        )
    out = {attr: _flagged(attr, tests) for attr, tests in families.items()}
    return {attr: alarms for attr, alarms in out.items() if alarms}


def day_srm_alarms(inputs: SnapshotInputs) -> list[SrmAlarm]:
    """The exposure days whose split is broken after Holm's correction across the days (none
    with fewer than two days: one day's split is the overall split)."""
    keys = [v.key for v in inputs.variants]
    weights = [v.weight for v in inputs.variants]
    tests = []
    for day, by_variant in sorted(inputs.units_by_day.items()):
        observed = [int(by_variant.get(k, 0)) for k in keys]
        if sum(observed) == 0:
            continue
        r = srm_check(observed, weights)
        tests.append(
            (
                day,
                float(r.p_value),
                sum(observed),
                dict(zip(keys, observed, strict=True)),
                {k: float(num(e) or 0.0) for k, e in zip(keys, r.expected, strict=True)},
            )
        )
    if len(tests) < 2:
        return []  # one day's split is the overall split, which has its own check
    return _flagged(DAY, tests)


def extreme_segment(alarms: Mapping[str, Sequence[SrmAlarm]]) -> SrmAlarm | None:
    """The most significant extreme segment alarm, if any (it holds the decision)."""
    extreme = [a for family in alarms.values() for a in family if a.extreme]
    return min(extreme, key=lambda a: (a.p_adjusted, a.family, a.value), default=None)
