"""``compare``: treatment versus control for one metric, from sufficient statistics."""

from __future__ import annotations

import math
import numbers

from analysis.engine.stats.bayesian import bayesian_update
from analysis.engine.stats.cuped import cuped_effect_moments
from analysis.engine.stats.exact import (
    TEST_BAYESIAN,
    TEST_CONFIDENCE_SEQUENCE,
    TEST_WELCH,
    exact_test,
)
from analysis.engine.stats.frequentist import welch_t_test
from analysis.engine.stats.inputs import ArmStats, MeanStats, ProportionStats, RatioStats
from analysis.engine.stats.moments import (
    arm_mean,
    arm_moments,
    effect_moments,
    relative_effect_defined,
)
from analysis.engine.stats.relative import (
    DEFAULT_RELATIVE_INTERVAL,
    RELATIVE_INTERVALS,
    ratio_estimate,
    relative_test,
)
from analysis.engine.stats.results import (
    STATUS_OK,
    STATUS_RELATIVE_INTERVAL_UNBOUNDED,
    STATUS_TOO_FEW_UNITS,
    STATUS_ZERO_CONTROL_MEAN,
    STATUS_ZERO_DENOMINATOR,
    STATUS_ZERO_VARIANCE,
    Comparison,
    thin_comparison,
)
from analysis.engine.stats.sequential import confidence_sequence

METHODS = ("frequentist", "sequential", "bayesian")
MIN_UNITS = 2  # per arm: the unbiased variance and Welch's ν need n − 1 > 0


def _check_finite(
    name: str, value: float, *, low: float | None = None, high: float | None = None
) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"compare: {name} must be a finite number, got {value!r}")
    if (low is not None and value <= low) or (high is not None and value >= high):
        raise ValueError(f"compare: {name} must be in ({low}, {high}), got {value!r}")


def _validate(
    control: ArmStats,
    treatment: ArmStats,
    method: str,
    alpha: float,
    sequential_tuning: float,
    prior_mean: float,
    prior_variance: float | None,
    relative_interval: str = DEFAULT_RELATIVE_INTERVAL,
) -> None:
    kinds = (ProportionStats, MeanStats, RatioStats)
    for name, arm in (("control", control), ("treatment", treatment)):
        if not isinstance(arm, kinds):
            raise ValueError(
                f"compare: {name} must be ProportionStats, MeanStats or RatioStats, "
                f"got {type(arm).__name__}"
            )
    if type(control) is not type(treatment):
        raise ValueError(
            "compare: control and treatment must be the same kind of statistics, got "
            f"{type(control).__name__} and {type(treatment).__name__}"
        )
    if method not in METHODS:
        raise ValueError(f"compare: method must be one of {METHODS}, got {method!r}")
    if relative_interval not in RELATIVE_INTERVALS:
        raise ValueError(
            f"compare: relative_interval must be one of {RELATIVE_INTERVALS}, "
            f"got {relative_interval!r}"
        )
    _check_finite("alpha", alpha, low=0.0, high=1.0)
    _check_finite("sequential_tuning", sequential_tuning, low=0.0)
    _check_finite("prior_mean", prior_mean)
    if prior_variance is not None:
        _check_finite("prior_variance", prior_variance, low=0.0)


def _thin_status(control: ArmStats, treatment: ArmStats, relative: bool) -> str | None:
    if control.n < MIN_UNITS or treatment.n < MIN_UNITS:
        return STATUS_TOO_FEW_UNITS
    if (
        isinstance(control, RatioStats)
        and isinstance(treatment, RatioStats)
        and (control.denominator_sum == 0 or treatment.denominator_sum == 0)
    ):
        return STATUS_ZERO_DENOMINATOR
    if relative and not relative_effect_defined(control, treatment):
        return STATUS_ZERO_CONTROL_MEAN
    return None


def compare(
    control: ArmStats,
    treatment: ArmStats,
    *,
    relative: bool = True,
    method: str = "frequentist",
    alpha: float = 0.05,
    sequential_tuning: int = 5000,
    prior_mean: float = 0.0,
    prior_variance: float | None = None,
    higher_is_better: bool = True,
    relative_interval: str = DEFAULT_RELATIVE_INTERVAL,
) -> Comparison:
    """Compare treatment with control on one metric.

    ``method`` is "frequentist" (Welch t-test, read once), "sequential" (confidence
    sequences, read any number of times) or "bayesian" (Gaussian posterior on the effect).
    ``relative`` chooses Δ/|μ_C| over μ_T − μ_C.  MeanStats carrying pre-exposure sums on
    both arms get CUPED.  Data that cannot support an answer gives a Comparison whose
    ``status`` names the reason; invalid arguments raise ValueError.

    ``relative_interval`` picks the interval of a relative effect for the frequentist and
    sequential methods: "fieller" (default; balanced tails, and the p-value is that of the
    absolute difference), "log" (log ratio, back-transformed) or "delta" (gbstats' formula,
    Δ/|μ_C| ± k·SE).  The Bayesian method always uses the delta-method moments.
    """
    _validate(
        control,
        treatment,
        method,
        alpha,
        sequential_tuning,
        prior_mean,
        prior_variance,
        relative_interval,
    )
    relative, alpha = bool(relative), float(alpha)
    control_mean, treatment_mean = arm_mean(control), arm_mean(treatment)

    def thin(status: str) -> Comparison:
        return thin_comparison(
            status,
            method=method,
            relative=relative,
            alpha=alpha,
            control_mean=control_mean,
            treatment_mean=treatment_mean,
        )

    status = _thin_status(control, treatment, relative)
    if status is not None:
        return thin(status)

    em = effect_moments(arm_moments(control), arm_moments(treatment), relative=relative)
    if not em.variance > 0:
        return thin(STATUS_ZERO_VARIANCE)
    if (
        isinstance(control, MeanStats)
        and isinstance(treatment, MeanStats)
        and control.has_pre
        and treatment.has_pre
    ):
        em = cuped_effect_moments(
            control, treatment, relative=relative, unadjusted_variance=em.variance
        )
        if not em.variance > 0:
            return thin(STATUS_ZERO_VARIANCE)

    # Too few conversions in an arm for a normal approximation: Fisher's exact test gives the
    # p-value and significance (analysis.engine.stats.exact); the intervals stay approximate.
    exact = exact_test(control, treatment) if method == "frequentist" else None

    def ok(
        effect: float,
        stderr: float,
        ci: tuple[float, float],
        significant: bool,
        *,
        p_value: float | None = None,
        chance_to_win: float | None = None,
        risk: tuple[float, float] | None = None,
        dof: float | None = None,
        test: str | None = None,
    ) -> Comparison:
        if exact is not None:
            p_value, significant, test = exact.p_value, exact.p_value < alpha, exact.test
        elif test is None:
            test = TEST_CONFIDENCE_SEQUENCE if method == "sequential" else TEST_WELCH
        return Comparison(
            effect=effect,
            stderr=stderr,
            ci=ci,
            p_value=p_value,
            chance_to_win=chance_to_win,
            risk=risk,
            significant=significant,
            control_mean=em.control_mean,
            treatment_mean=em.treatment_mean,
            variance_reduction=em.variance_reduction,
            status=STATUS_OK,
            method=method,
            relative=relative,
            alpha=alpha,
            dof=dof,
            test=test,
        )

    if method == "bayesian":
        if prior_variance is not None and not relative and em.control_mean == 0:
            return thin(STATUS_ZERO_CONTROL_MEAN)  # the prior is scaled by |μ_C|
        b = bayesian_update(
            em,
            relative=relative,
            alpha=alpha,
            prior_mean=prior_mean,
            prior_variance=prior_variance,
            higher_is_better=higher_is_better,
        )
        significant = b.ci[0] > 0 or b.ci[1] < 0
        return ok(
            b.effect,
            b.stderr,
            b.ci,
            significant,
            chance_to_win=b.chance_to_win,
            risk=b.risk,
            test=TEST_BAYESIAN,
        )
    if relative and relative_interval != "delta":
        rt = relative_test(
            ratio_estimate(control, treatment),
            em,
            interval=relative_interval,
            method=method,
            alpha=alpha,
            tuning=sequential_tuning,
        )
        if rt is None:
            return thin(STATUS_RELATIVE_INTERVAL_UNBOUNDED)
        return ok(rt.effect, rt.stderr, rt.ci, rt.p_value < alpha, p_value=rt.p_value, dof=rt.dof)
    if method == "sequential":
        s = confidence_sequence(em, alpha=alpha, tuning=sequential_tuning)
        return ok(s.effect, s.stderr, s.ci, s.p_value < alpha, p_value=s.p_value)
    f = welch_t_test(em, alpha=alpha)
    return ok(f.effect, f.stderr, f.ci, f.p_value < alpha, p_value=f.p_value, dof=f.dof)
