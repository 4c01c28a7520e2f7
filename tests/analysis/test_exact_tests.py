"""Conversion metrics with fewer than 5 conversions or non-conversions in an arm are tested
with Fisher's exact test, and the report names the test. References are computed with
scipy on the 2x2 table or the raw 0/1 data inside each test."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from analysis.engine.results import results_compute
from analysis.engine.stats import MeanStats, ProportionStats, compare
from analysis.engine.stats.exact import exact_test_needed
from tests.analysis.reference import conversion, plan, synthetic_inputs


def _fisher(control: tuple[int, int], treatment: tuple[int, int]) -> float:
    (nc, kc), (nt, kt) = control, treatment
    return float(sps.fisher_exact([[kt, nt - kt], [kc, nc - kc]]).pvalue)


def _welch_on_raw(control: tuple[int, int], treatment: tuple[int, int]) -> float:
    """The normal-approximation p-value: Welch's t on the 0/1 data, unit variance p(1 - p)."""
    (nc, kc), (nt, kt) = control, treatment
    pc, pt = kc / nc, kt / nt
    vc, vt = pc * (1 - pc) / nc, pt * (1 - pt) / nt
    dof = (vc + vt) ** 2 / (vc**2 / (nc - 1) + vt**2 / (nt - 1))
    return float(2 * sps.t.sf(abs(pt - pc) / np.sqrt(vc + vt), dof))


def test_compare__5_of_20_vs_0_of_20__fisher_p_value_and_named_test() -> None:
    result = compare(
        ProportionStats(n=20, conversions=5), ProportionStats(n=20, conversions=0), relative=False
    )
    assert result.test == "fisher_exact"
    assert result.p_value == pytest.approx(_fisher((20, 5), (20, 0)), rel=1e-12)
    assert result.p_value == pytest.approx(0.0471, abs=1e-4)


def test_compare__wald_significant_but_fisher_not__not_significant() -> None:
    # At alpha 0.03 the normal approximation calls 5/20 vs 0/20 (p ≈ 0.018) significant;
    # Fisher's exact p ≈ 0.047 does not.
    assert _welch_on_raw((20, 5), (20, 0)) < 0.03 < _fisher((20, 5), (20, 0))
    for relative in (True, False):
        result = compare(
            ProportionStats(n=20, conversions=5),
            ProportionStats(n=20, conversions=1),
            relative=relative,
            alpha=0.03,
        )
        assert result.p_value == pytest.approx(_fisher((20, 5), (20, 1)), rel=1e-12)
        assert result.significant is False
    absolute = compare(
        ProportionStats(n=20, conversions=5),
        ProportionStats(n=20, conversions=0),
        relative=False,
        alpha=0.03,
    )
    assert (absolute.test, absolute.significant) == ("fisher_exact", False)


@pytest.mark.parametrize(
    ("control", "treatment", "exact"),
    [
        ((100, 5), (100, 12), False),  # every cell has at least 5
        ((100, 4), (100, 12), True),  # 4 conversions in control
        ((100, 40), (20, 16), True),  # 4 non-conversions in treatment
        ((1387, 42), (1414, 0), True),  # the zero-arm guardrail
        ((10_000, 1_000), (10_000, 1_100), False),
    ],
)
def test_compare__cell_counts__exact_test_below_5_conversions_or_non_conversions(
    control: tuple[int, int], treatment: tuple[int, int], exact: bool
) -> None:
    c = ProportionStats(n=control[0], conversions=control[1])
    t = ProportionStats(n=treatment[0], conversions=treatment[1])
    assert exact_test_needed(c, t) is exact
    result = compare(c, t, relative=False)
    if exact:
        assert result.test == "fisher_exact"
        assert result.p_value == pytest.approx(_fisher(control, treatment), rel=1e-9)
    else:
        assert result.test == "welch"
        assert result.p_value == pytest.approx(_welch_on_raw(control, treatment), rel=1e-6)


def test_compare__sequential_or_mean_metric__no_exact_test() -> None:
    small = ProportionStats(n=20, conversions=5), ProportionStats(n=20, conversions=1)
    sequential = compare(*small, relative=False, method="sequential")
    assert sequential.test == "confidence_sequence"
    assert sequential.p_value != pytest.approx(_fisher((20, 5), (20, 1)))
    mean = compare(
        MeanStats(n=20, sum=5.0, sum_squares=5.0),
        MeanStats(n=20, sum=1.0, sum_squares=1.0),
        relative=False,
    )
    assert mean.test == "welch"


def test_results__guardrail_with_three_conversions__row_names_fisher_and_its_p_value() -> None:
    inputs = synthetic_inputs(
        [
            {"metric": "paid", "stats": conversion((2_000, 200), (2_000, 260))},
            {
                "metric": "chargebacks",
                "role": "guardrail",
                "higher_is_better": False,
                "stats": conversion((2_000, 0), (2_000, 3)),
            },
        ]
    )
    r = results_compute(inputs=inputs, plan=plan(), computed_at="x", engine_version="t")
    paid, chargebacks = (m["variants"][1] for m in r["metrics"])
    assert paid["test"] == "welch"
    assert chargebacks["test"] == "fisher_exact"
    assert chargebacks["significance_basis"] == "absolute"  # the control mean is 0
    assert chargebacks["p_value"] == pytest.approx(_fisher((2_000, 0), (2_000, 3)), rel=1e-9)
    assert (chargebacks["significant"], chargebacks["outcome"]) == (False, "not_significant")
