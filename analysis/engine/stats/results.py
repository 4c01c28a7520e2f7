"""Result dataclasses returned by the engine, with JSON-safe ``to_dict``."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

# Values of ``Comparison.status``.  Anything but "ok" means the data cannot support an
# answer yet; the numbers that could not be computed are None.
STATUS_OK = "ok"
STATUS_TOO_FEW_UNITS = "too_few_units"
STATUS_ZERO_VARIANCE = "zero_variance"
STATUS_ZERO_CONTROL_MEAN = "zero_control_mean"
STATUS_ZERO_DENOMINATOR = "zero_denominator"
# The relative interval has no finite bounds: with Fieller's interval, the control mean is
# not significantly different from 0; with the log-ratio interval, a mean is not positive.
STATUS_RELATIVE_INTERVAL_UNBOUNDED = "relative_interval_unbounded"
STATUSES = (
    STATUS_OK,
    STATUS_TOO_FEW_UNITS,
    STATUS_ZERO_VARIANCE,
    STATUS_ZERO_CONTROL_MEAN,
    STATUS_ZERO_DENOMINATOR,
    STATUS_RELATIVE_INTERVAL_UNBOUNDED,
)


def json_safe(value: Any) -> Any:
    """Convert to plain JSON values: floats (never NaN/inf: those become None), tuples to lists."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float) or hasattr(value, "__float__"):
        x = float(value)
        return x if math.isfinite(x) else None
    if isinstance(value, (tuple, list)):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    raise TypeError(f"cannot make {type(value).__name__} JSON-safe")


def _finite_or_none(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class Comparison:
    """Treatment versus control for one metric.

    ``effect`` is relative (Δ/|μ_C|) or absolute (μ_T − μ_C) as requested.  ``ci`` is the
    confidence interval (frequentist), confidence sequence (sequential) or credible interval
    (bayesian) at level 1 − alpha.  ``risk`` is (expected loss of keeping control, expected
    loss of shipping treatment), in the units of ``effect``.
    """

    effect: float | None
    stderr: float | None
    ci: tuple[float, float] | None
    p_value: float | None
    chance_to_win: float | None
    risk: tuple[float, float] | None
    significant: bool
    control_mean: float | None
    treatment_mean: float | None
    variance_reduction: float
    status: str
    method: str = "frequentist"
    relative: bool = True
    alpha: float = 0.05
    dof: float | None = None
    # The test behind ``p_value`` / ``significant`` (``analysis.engine.stats.exact.TESTS``);
    # None when the data could not support one.
    test: str | None = None

    @property
    def ok(self) -> bool:
        """True when the data supported an answer (``status == "ok"``)."""
        return self.status == STATUS_OK

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe dict: floats/None/str/bool, tuples as lists, no NaN or inf."""
        return {f.name: json_safe(getattr(self, f.name)) for f in fields(self)}


def thin_comparison(
    status: str,
    *,
    method: str,
    relative: bool,
    alpha: float,
    control_mean: float | None,
    treatment_mean: float | None,
) -> Comparison:
    """A result for data that cannot support an answer: a status, not an exception."""
    return Comparison(
        effect=None,
        stderr=None,
        ci=None,
        p_value=None,
        chance_to_win=None,
        risk=None,
        significant=False,
        control_mean=_finite_or_none(control_mean),
        treatment_mean=_finite_or_none(treatment_mean),
        variance_reduction=0.0,
        status=status,
        method=method,
        relative=relative,
        alpha=alpha,
    )


@dataclass(frozen=True)
class SrmResult:
    """Sample-ratio-mismatch check: Pearson chi-square against the configured weights."""

    statistic: float
    p_value: float
    mismatch: bool
    expected: tuple[float, ...] = ()
    threshold: float = 0.001

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe dict: floats/bool, tuples as lists, no NaN or inf."""
        return {f.name: json_safe(getattr(self, f.name)) for f in fields(self)}
