"""Typed per-metric results: a row per variant, metrics, segments and the SRM check.

Part of the results contract (``analysis.engine.contract.results``); the JSON of each class
comes from its fields (``analysis.engine.contract.model``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, ClassVar

from pydantic import Field

from analysis.engine.stats.exact import TESTS
from analysis.engine.stats.results import STATUSES
from core.vocab import MetricRole, Outcome

from .model import CONTRACT, Contract, Interval, Number, dataclass, never_null, or_default

# Values of ``VariantResult.outcome``: decided once, after the multiple-testing correction
# (``analysis.engine.outcomes.variant_outcome``).
# (core.vocab.Outcome)
BETTER = Outcome.BETTER
WORSE = Outcome.WORSE
NOT_SIGNIFICANT = Outcome.NOT_SIGNIFICANT
NOT_ENOUGH_DATA = Outcome.NOT_ENOUGH_DATA
OUTCOMES = tuple(Outcome)


# Values of ``VariantResult.significance_basis``: the comparison whose p-value, significance
# and direction decided the outcome. ``absolute`` when the relative effect could not be
# computed (its ``status`` says why) but the absolute difference could.
RELATIVE = "relative"
ABSOLUTE = "absolute"
SIGNIFICANCE_BASES = (RELATIVE, ABSOLUTE)

# Values of ``SrmResult.level`` (``analysis.engine.stats.srm.srm_level``).
SRM_OK, SRM_WARNING, SRM_ERROR = "ok", "warning", "error"
SRM_LEVELS = (SRM_OK, SRM_WARNING, SRM_ERROR)


# Values of ``MetricResult.role`` (core.vocab.MetricRole).
ROLES = tuple(MetricRole)

# Values of ``MetricResult.status``: ``values_out_of_range`` when some units' event values were
# beyond the accepted range (+-1e100) and were counted at the limit (the aggregation's
# ``analysis.aggregation.inputs.VALUES_OUT_OF_RANGE``); ``out_of_range_units`` says how many.
METRIC_OK = "ok"
VALUES_OUT_OF_RANGE = "values_out_of_range"
METRIC_STATUSES = (METRIC_OK, VALUES_OUT_OF_RANGE)


def choice(values: Iterable[str], description: str = "", *, null: bool = True) -> Any:
    """A text field's documented values (and description) in the JSON schema; ``null=False``
    for an optional field that is left out rather than written as null."""
    enum = [str(v) for v in values]

    def extra(schema: dict[str, Any]) -> None:
        if not null:
            never_null(schema)
        schema["enum"] = enum

    return Field(description=description or None, json_schema_extra=extra)


@dataclass(frozen=True, config=CONTRACT)
class VariantResult(Contract):
    """One variant of a metric or segment. The control's row has only ``variant`` to
    ``mean`` (and ``immature_units`` for retention); the other fields compare a treatment
    with the control.

    ``p_value``, ``significant`` and ``outcome`` come from the comparison named by
    ``significance_basis`` (the relative one, or the absolute one when the relative effect
    could not be computed), tested by ``test`` (``analysis.engine.stats.exact.TESTS``)."""

    variant: str
    name: str
    is_control: bool
    units: int
    mean: Annotated[Number, Field(description="The arm's mean (or ratio); null when undefined.")]
    effect: Annotated[
        Number, Field(description="Relative effect: (treatment - control) / |control|.")
    ] = None
    ci: Annotated[
        Interval, Field(description="Interval for the relative effect at level 1 - alpha.")
    ] = None
    stderr: Number = None
    p_value: Annotated[
        Number,
        Field(
            description="Adjusted for multiple testing when the metric is `corrected`; null for "
            "Bayesian plans."
        ),
    ] = None
    p_value_unadjusted: Number = None
    chance_to_win: Annotated[Number, Field(description="Bayesian plans only.")] = None
    risk: Annotated[
        Interval,
        Field(description="Bayesian plans only: expected loss of keeping control, of shipping."),
    ] = None
    significant: Annotated[bool, or_default(False)] = False
    outcome: Annotated[
        str | None,
        choice(
            OUTCOMES,
            "Accounts for the metric's direction: `better` is significant in the good direction.",
            null=False,
        ),
    ] = None
    status: Annotated[
        str | None, choice(STATUSES, "Anything but `ok`: not enough data.", null=False)
    ] = None
    variance_reduction: Annotated[
        Number, Field(description="CUPED's share of variance removed.")
    ] = None
    absolute_effect: Annotated[Number, Field(description="treatment - control.")] = None
    absolute_ci: Annotated[Interval, Field(description="Interval for the absolute effect.")] = None
    test: Annotated[
        str | None,
        choice(
            TESTS,
            "The test behind `p_value` and `significant`: `welch` (t-test), `fisher_exact` "
            "(conversion metrics with fewer than 5 conversions or non-conversions in an arm), "
            "`confidence_sequence` (sequential plans) or `bayesian`. Null when the data "
            "supported no test.",
        ),
    ] = None
    significance_basis: Annotated[
        str | None,
        choice(
            SIGNIFICANCE_BASES,
            "The comparison that decided `p_value`, `significant` and `outcome`: `relative`, "
            "or `absolute` when the relative effect could not be computed (`status` says why) "
            "but the difference could. Null when neither could.",
        ),
    ] = None
    immature_units: Annotated[
        int | None,
        Field(
            description="Retention metrics only: units whose day N has not elapsed.",
            json_schema_extra=never_null,
        ),
    ] = None

    DEFAULTS_FROM: ClassVar[Mapping[str, str]] = {"name": "variant"}
    # The comparison fields (treatments only) and ``immature_units`` (retention only).
    COMPARISON_KEYS: ClassVar[tuple[str, ...]] = (
        "effect",
        "ci",
        "stderr",
        "p_value",
        "p_value_unadjusted",
        "chance_to_win",
        "risk",
        "significant",
        "outcome",
        "status",
        "variance_reduction",
        "absolute_effect",
        "absolute_ci",
        "test",
        "significance_basis",
    )
    OPTIONAL_KEYS: ClassVar[tuple[str, ...]] = (*COMPARISON_KEYS, "immature_units")

    def omitted(self) -> Iterable[str]:
        keys = self.COMPARISON_KEYS if self.is_control else ()
        return (*keys, "immature_units") if self.immature_units is None else keys

    @property
    def is_better(self) -> bool:
        return self.outcome == BETTER

    @property
    def is_worse(self) -> bool:
        return self.outcome == WORSE


@dataclass(frozen=True, config=CONTRACT, kw_only=True)
class PointResult(Contract):
    """One point of a curve metric: a retention curve's day (``D1``...), week 1 (``W1``: days
    1-7) or month 1 (``M1``: days 1-30), or a value curve's value to day k (``D<k>``), over
    the units whose days have passed. Each point is compared as a metric of its own, without
    the multiple-testing correction (only the headline point joins the correction)."""

    point: Annotated[str, Field(description="`D<d>`, `W1` or `M1`.")]
    day_from: Annotated[int, Field(description="First day since exposure read (0 = day 0).")]
    day_to: Annotated[int, Field(description="Day since exposure the point stops before.")]
    variants: tuple[VariantResult, ...]


@dataclass(frozen=True, config=CONTRACT, kw_only=True)
class MetricResult(Contract):
    """One metric: its definition as analysed and a row per variant (control first)."""

    metric: str
    name: str
    type: str
    role: Annotated[str, choice(ROLES)]
    higher_is_better: bool = True
    corrected: Annotated[bool, Field(description="p-values adjusted for multiple testing.")] = False
    cuped: bool = False
    winsorized_at: Annotated[
        Number, Field(description="The cap on per-unit values, when winsorized.")
    ] = None
    variants: tuple[VariantResult, ...]
    # ``ok`` or ``values_out_of_range`` (None: results stored before schema version 4).
    status: Annotated[
        str | None,
        choice(
            METRIC_STATUSES,
            "`values_out_of_range` when some units' event values were beyond the accepted "
            "range (+-1e100) and were counted at the limit, so the figures do not describe "
            "those values; else `ok`. Null in results stored before schema version 4.",
        ),
    ] = METRIC_OK
    out_of_range_units: Annotated[
        int | None,
        Field(
            description="Units whose value reached the limit (0 when `ok`; null before version 4)."
        ),
    ] = 0
    headline: Annotated[
        str | None,
        Field(
            description="Curve metrics only: the point that `variants` report and the decision "
            "and health read (`W1` for a retention curve, `D7` for a value curve).",
            json_schema_extra=never_null,
        ),
    ] = None
    points: Annotated[
        tuple[PointResult, ...],
        Field(description="Curve metrics only (schema version 6): every point, in day order."),
    ] = ()

    DEFAULTS_FROM: ClassVar[Mapping[str, str]] = {"name": "metric"}
    OPTIONAL_KEYS: ClassVar[tuple[str, ...]] = ("headline", "points")

    def omitted(self) -> Iterable[str]:
        return () if self.points else self.OPTIONAL_KEYS

    @property
    def values_out_of_range(self) -> bool:
        return self.status == VALUES_OUT_OF_RANGE

    @property
    def treatments(self) -> tuple[VariantResult, ...]:
        return tuple(v for v in self.variants if not v.is_control)


@dataclass(frozen=True, config=CONTRACT)
class SrmResult(Contract):
    """Sample ratio mismatch: observed units per variant against the weights' expectation.

    ``level`` is ``error`` at p < 0.001 (``mismatch``; the decision is held), ``warning`` at
    p < 0.01, else ``ok``."""

    p_value: Number
    mismatch: Annotated[bool, Field(description="p < 0.001: the `error` level.")]
    statistic: Number
    observed: Annotated[dict[str, int], or_default({})]
    expected: Annotated[dict[str, Number], or_default({})]
    level: Annotated[
        str,
        choice(
            SRM_LEVELS,
            "`error` at p < 0.001 (the decision is held), `warning` at p < 0.01, else `ok`.",
        ),
    ] = SRM_OK


@dataclass(frozen=True, config=CONTRACT)
class SegmentResult(Contract):
    """The primary metric for the units whose ``attribute`` is ``value``: uncorrected, or,
    when ``corrected``, with p-values adjusted across the attribute's segments and variants
    (the plan's ``segment_correction``; ``p_value_unadjusted`` keeps the raw one)."""

    attribute: str
    value: str
    metric: str
    units: int
    srm: SrmResult
    variants: tuple[VariantResult, ...]
    corrected: Annotated[
        bool,
        Field(description="Present (true) when the p-values are adjusted across the dimension."),
    ] = False

    OPTIONAL_KEYS: ClassVar[tuple[str, ...]] = ("corrected",)

    def omitted(self) -> Iterable[str]:
        return () if self.corrected else self.OPTIONAL_KEYS
