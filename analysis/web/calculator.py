"""The sample-size calculator: a page of its own, and a partial the experiment form loads.

Units per variant come from the statistics engine's power functions (``analysis.stats``);
the duration is every variant's units over the daily traffic. It warns when the experiment
would run under one full week (weekly cycles) or over eight weeks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext as _

from analysis.stats import expected_duration_days, sample_size

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


def _values(query: QueryDict) -> dict[str, str]:
    values = {name: query.get(name, default).strip() for name, default in DEFAULTS.items()}
    if query.get("mde") == "":
        values["mde"] = DEFAULTS["mde"]
    return values


@login_required
def calculator_page(request: HttpRequest) -> HttpResponse:
    values = _values(request.GET)
    plan, errors = calculate(values)
    context: dict[str, Any] = {
        "nav": "calculator",
        "c": values,
        "plan": plan,
        "errors": errors,
        "embed": request.GET.get("embed") == "1",
        "weeks": plan.days / 7 if plan else None,
    }
    template = TEMPLATE
    if request.htmx:
        # The live update swaps the result and the error lists only, never what is typed.
        template += "#calc-update" if request.GET.get("part") == "result" else "#calc-form"
        context["field_error_lists"] = [(name, errors.get(name, [])) for name in FIELDS]
    return render(request, template, context)
