"""The calculator: sample size and duration, and "paste your numbers".

Units per variant come from the statistics engine's power functions (``analysis.engine.stats``);
the duration is every variant's units over the daily traffic. It warns when the experiment
would run under one full week (weekly cycles) or over eight weeks. The sample-size part is
also a partial the experiment form loads.

"Paste your numbers" (``paste_compare``) takes users and conversions, or mean, standard
deviation and n, per arm and runs the engine's ``compare`` exactly as the report does for a
frequentist plan (relative effect with Fieller's interval, the p-value of the difference;
Fisher's exact test when an arm has fewer than 5 conversions or non-conversions), drawn as the
report's interval bar (``analysis.engine.charts``). It posts as a form, and HTMX posts it as you
type (``console/templates/analysis/_calculator_paste.html``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from analysis.engine.charts import (
    IntervalBar,
    LinearScale,
    Tick,
    interval_bar,
    nice_ticks,
    shared_domain,
)
from analysis.engine.stats import (
    Comparison,
    MeanStats,
    ProportionStats,
    compare,
    expected_duration_days,
    sample_size,
)
from analysis.engine.stats.exact import TEST_FISHER_EXACT
from console.report.rows import BAR_PAD, BAR_WIDTH, axis_ticks

TEMPLATE = "analysis/calculator.html"
DEFAULTS = {
    "kind": "rate",
    "baseline": "10",
    "mean": "",
    "std": "",
    "mde": "5",
    "power": "80",
    "alpha": "0.05",
    "variants": "2",
    "daily": "1000",
}
MAX_WEEKS = 8
FIELDS = ("baseline", "mean", "std", "mde", "power", "alpha", "variants", "daily")


@dataclass(frozen=True)
class Plan:
    units_per_variant: int
    total_units: int
    days: int
    too_short: bool
    too_long: bool


def _number(
    values: dict[str, str], name: str, errors: dict[str, list[str]], low: float, high: float
) -> float:
    try:
        number = float(values.get(name, "").replace(",", ""))
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and low < number < high):
        errors.setdefault(name, []).append(
            _("Enter a number between %(low)s and %(high)s.") % {"low": low, "high": high}
        )
    return number


def calculate(values: dict[str, str]) -> tuple[Plan | None, dict[str, list[str]]]:
    """Units per variant and days for the form's values, or the errors that stop it."""
    errors: dict[str, list[str]] = {}
    mde = _number(values, "mde", errors, 0, 1e6) / 100
    power = _number(values, "power", errors, 0, 100) / 100
    alpha = _number(values, "alpha", errors, 0, 0.5)
    daily = _number(values, "daily", errors, 0, 1e12)
    variants = _number(values, "variants", errors, 1, 101)
    if "variants" not in errors and variants != int(variants):
        errors["variants"] = [_("A whole number of variants, at least 2.")]
    if values.get("kind") == "mean":
        baseline = _number(values, "mean", errors, -1e15, 1e15)
        std = _number(values, "std", errors, 0, 1e15)
        if "mean" not in errors and baseline == 0:
            errors["mean"] = [_("A relative effect needs a mean other than 0.")]
        metric, std_arg = "mean", std
    else:
        baseline = _number(values, "baseline", errors, 0, 100) / 100
        metric, std_arg = "proportion", None
    if errors:
        return None, errors
    treatment = baseline * (1 + mde)
    try:
        per_variant = math.ceil(
            sample_size(metric, baseline, treatment, std=std_arg, alpha=alpha, power=power)
        )
        days = math.ceil(expected_duration_days(per_variant, daily, arms=int(variants)))
    except ValueError as exc:
        message = str(exc).split(": ", 1)[-1]
        if metric == "proportion" and treatment >= 1:
            message = _("The baseline plus the effect must stay below 100%.")
        return None, {"non_field_errors": [message]}
    plan = Plan(
        units_per_variant=per_variant,
        total_units=per_variant * int(variants),
        days=days,
        too_short=days < 7,
        too_long=days > MAX_WEEKS * 7,
    )
    return plan, {}


PASTE_TEMPLATE = "analysis/_calculator_paste.html"
PASTE_DEFAULTS = {
    "p_kind": "rate",
    "c_users": "",
    "c_conv": "",
    "t_users": "",
    "t_conv": "",
    "c_mean": "",
    "c_sd": "",
    "c_n": "",
    "t_mean": "",
    "t_sd": "",
    "t_n": "",
    "p_alpha": "0.05",
    "p_direction": "higher",
}
RATE_FIELDS = ("c_users", "c_conv", "t_users", "t_conv")
MEAN_FIELDS = ("c_mean", "c_sd", "c_n", "t_mean", "t_sd", "t_n")
PASTE_FIELDS = (*RATE_FIELDS, *MEAN_FIELDS, "p_alpha")


@dataclass(frozen=True)
class Pasted:
    """The report's comparison of two pasted arms: the relative and absolute comparisons, the
    interval bar of the one that decides (relative unless it could not be computed), its axis
    ticks and the test behind the p-value."""

    relative: Comparison
    absolute: Comparison
    basis: Comparison
    bar: IntervalBar
    ticks: list[Tick]

    @property
    def is_relative(self) -> bool:
        return self.basis is self.relative

    @property
    def exact(self) -> bool:
        return self.basis.test == TEST_FISHER_EXACT

    @property
    def effect_percent(self) -> float | None:
        e = self.relative.effect
        return None if e is None or not self.relative.ok else e * 100

    @property
    def ci_percent(self) -> tuple[float, float] | None:
        ci = self.relative.ci
        return None if ci is None or not self.relative.ok else (ci[0] * 100, ci[1] * 100)


def _count(
    values: dict[str, str], name: str, errors: dict[str, list[str]], low: int, message: str
) -> int:
    text = values.get(name, "").replace(",", "")
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number != int(number):
        errors.setdefault(name, []).append(_("Enter a whole number."))
        return 0
    if number < low:
        errors.setdefault(name, []).append(message)
    return int(number)


def _real(values: dict[str, str], name: str, errors: dict[str, list[str]]) -> float:
    try:
        number = float(values.get(name, "").replace(",", ""))
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        errors.setdefault(name, []).append(_("Enter a number."))
    return number


def _arms_rate(
    values: dict[str, str], errors: dict[str, list[str]]
) -> tuple[ProportionStats, ProportionStats] | None:
    arms = []
    for arm in ("c", "t"):
        users = _count(values, f"{arm}_users", errors, 2, _("At least 2 users (n ≥ 2)."))
        conv = _count(values, f"{arm}_conv", errors, 0, _("Conversions cannot be negative."))
        if f"{arm}_users" not in errors and f"{arm}_conv" not in errors and conv > users:
            errors[f"{arm}_conv"] = [_("Conversions cannot exceed users.")]
        arms.append((users, conv))
    if any(f in errors for f in RATE_FIELDS):
        return None
    (cu, cc), (tu, tc) = arms
    return ProportionStats(n=cu, conversions=cc), ProportionStats(n=tu, conversions=tc)


def _arms_mean(
    values: dict[str, str], errors: dict[str, list[str]]
) -> tuple[MeanStats, MeanStats] | None:
    arms = []
    for arm in ("c", "t"):
        mean = _real(values, f"{arm}_mean", errors)
        sd = _real(values, f"{arm}_sd", errors)
        if f"{arm}_sd" not in errors and sd < 0:
            errors[f"{arm}_sd"] = [_("The standard deviation cannot be negative.")]
        n = _count(values, f"{arm}_n", errors, 2, _("At least 2 units (n ≥ 2)."))
        arms.append((mean, sd, n))
    if any(f in errors for f in MEAN_FIELDS):
        return None
    # Sums around the mean (shift): Σ(y − ȳ) = 0 and Σ(y − ȳ)² = sd²·(n − 1), exactly.
    control, treatment = (
        MeanStats(n=n, sum=0.0, sum_squares=sd * sd * (n - 1), shift=mean) for mean, sd, n in arms
    )
    return control, treatment


def paste_compare(values: dict[str, str]) -> tuple[Pasted | None, dict[str, list[str]]]:
    """The report's comparison of the pasted arms, or the errors next to their fields.

    Nothing typed yet gives neither a result nor errors."""
    kind_fields = MEAN_FIELDS if values.get("p_kind") == "mean" else RATE_FIELDS
    if not any(values.get(f, "").strip() for f in kind_fields):
        return None, {}
    errors: dict[str, list[str]] = {}
    alpha = _number(values, "p_alpha", errors, 0, 0.5)
    if values.get("p_kind") == "mean":
        arms: tuple[Any, Any] | None = _arms_mean(values, errors)
    else:
        arms = _arms_rate(values, errors)
    if errors or arms is None:
        return None, errors
    control, treatment = arms
    higher = values.get("p_direction") != "lower"
    common: dict[str, Any] = {"method": "frequentist", "alpha": alpha, "higher_is_better": higher}
    relative = compare(control, treatment, relative=True, **common)
    absolute = compare(control, treatment, relative=False, **common)
    basis = relative if relative.ok or not absolute.ok else absolute
    if not basis.ok or basis.ci is None or basis.effect is None:
        reasons = {
            "zero_variance": _("Both arms have no spread (every value the same): nothing to test."),
            "zero_control_mean": _("The control's mean is 0: no relative effect."),
        }
        message = reasons.get(basis.status, _("These numbers cannot support a test."))
        return None, {"non_field_errors": [message]}
    low, high = shared_domain([basis.ci])
    scale = LinearScale(low, high, BAR_PAD, BAR_WIDTH - BAR_PAD)
    bar = interval_bar(
        scale,
        lo=basis.ci[0],
        hi=basis.ci[1],
        estimate=basis.effect,
        significant=basis.significant,
        higher_is_better=higher,
    )
    ticks = axis_ticks(scale) if basis is relative else nice_ticks(scale, count=4, percent=False)
    return Pasted(relative, absolute, basis, bar, ticks), {}


def _paste_values(data: QueryDict) -> dict[str, str]:
    return {name: data.get(name, default).strip() for name, default in PASTE_DEFAULTS.items()}


def _values(query: QueryDict) -> dict[str, str]:
    values = {name: query.get(name, default).strip() for name, default in DEFAULTS.items()}
    if query.get("mde") == "":
        values["mde"] = DEFAULTS["mde"]
    return values


@login_required
@require_http_methods(["GET", "POST"])
def calculator_page(request: HttpRequest) -> HttpResponse:
    """GET: the sample-size part (``?part=result`` for its live update). POST: "paste your
    numbers" (``?part=paste`` for its live update; a plain form post renders the page)."""
    paste_values = _paste_values(request.POST if request.method == "POST" else QueryDict())
    pasted, paste_errors = paste_compare(paste_values)
    paste_context: dict[str, Any] = {
        "p": paste_values,
        "pasted": pasted,
        "paste_errors": paste_errors,
        "bar_width": BAR_WIDTH,
    }
    if request.method == "POST" and request.htmx and request.GET.get("part") == "paste":
        paste_context["paste_error_lists"] = [
            (name, paste_errors.get(name, [])) for name in PASTE_FIELDS
        ]
        return render(request, f"{PASTE_TEMPLATE}#paste-update", paste_context)
    values = _values(request.GET)
    plan, errors = calculate(values)
    context: dict[str, Any] = {
        "nav": "calculator",
        "c": values,
        "plan": plan,
        "errors": errors,
        "embed": request.GET.get("embed") == "1",
        "weeks": plan.days / 7 if plan else None,
        **paste_context,
    }
    template = TEMPLATE
    if request.htmx:
        # The live update swaps the result and the error lists only, never what is typed.
        template += "#calc-update" if request.GET.get("part") == "result" else "#calc-form"
        context["field_error_lists"] = [(name, errors.get(name, [])) for name in FIELDS]
    return render(request, template, context)
