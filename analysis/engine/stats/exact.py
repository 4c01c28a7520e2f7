"""Exact tests for conversion metrics with too few conversions for a normal approximation.

The Welch / z test of two proportions leans on the normal approximation, which fails when an
arm has only a handful of conversions (or of non-conversions): 5/20 against 0/20 gives a
Wald p of 0.018 while Fisher's exact p is 0.047.  When any arm has fewer than
``EXACT_MIN_CELL`` conversions or non-conversions, the p-value and the significance of a
frequentist conversion comparison come from Fisher's exact test (two-sided, conditional on
the margins; scipy's ``fisher_exact``) instead.  The test is named in the result
(``Comparison.test``), so a report says which one decided.

Fisher's test is conservative (its actual size is at most alpha) and fast at any sample size,
which matters here: the case it exists for is often a large arm with 0 conversions.
Pure Python (scipy), no Django.
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy import stats as sps

from analysis.engine.stats.inputs import ArmStats, ProportionStats

# Values of ``Comparison.test``: the test whose p-value and significance a comparison reports.
TEST_WELCH = "welch"
TEST_FISHER_EXACT = "fisher_exact"
TEST_CONFIDENCE_SEQUENCE = "confidence_sequence"
TEST_BAYESIAN = "bayesian"
TESTS = (TEST_WELCH, TEST_FISHER_EXACT, TEST_CONFIDENCE_SEQUENCE, TEST_BAYESIAN)

# An arm with fewer conversions or non-conversions than this gets the exact test.
EXACT_MIN_CELL = 5


@dataclass(frozen=True)
class ExactTest:
    """An exact test of equal conversion rates: its name and two-sided p-value."""

    test: str
    p_value: float


def exact_test_needed(
    control: ArmStats, treatment: ArmStats, *, min_cell: int = EXACT_MIN_CELL
) -> bool:
    """True for two conversion arms when any arm has fewer than ``min_cell`` conversions or
    non-conversions (the cells of the 2x2 table a normal approximation cannot handle)."""
    if not (isinstance(control, ProportionStats) and isinstance(treatment, ProportionStats)):
        return False
    return any(
        min(arm.conversions, arm.n - arm.conversions) < min_cell for arm in (control, treatment)
    )


def fisher_exact_test(control: ProportionStats, treatment: ProportionStats) -> ExactTest:
    """Fisher's exact test (two-sided) of equal conversion rates in two arms."""
    table = [
        [treatment.conversions, treatment.n - treatment.conversions],
        [control.conversions, control.n - control.conversions],
    ]
    p_value = float(sps.fisher_exact(table, alternative="two-sided").pvalue)
    return ExactTest(test=TEST_FISHER_EXACT, p_value=min(max(p_value, 0.0), 1.0))


def exact_test(
    control: ArmStats, treatment: ArmStats, *, min_cell: int = EXACT_MIN_CELL
) -> ExactTest | None:
    """The exact test for two conversion arms that need one (see ``exact_test_needed``),
    else None (the normal approximation holds, or the arms are not conversions)."""
    if not exact_test_needed(control, treatment, min_cell=min_cell):
        return None
    assert isinstance(control, ProportionStats) and isinstance(treatment, ProportionStats)
    return fisher_exact_test(control, treatment)
