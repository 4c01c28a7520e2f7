"""The metrics library pages: the list (with the experiments using each metric), and create and
edit forms whose fields follow the metric type. The create form also opens in the experiment
form's dialog (``?inline=1``), so a PM adds a metric without leaving the experiment.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from console.form_errors import flatten
from core.actors import actor_from_request
from core.errors import ValidationFailed
from core.json_input import JsonTooDeep, json_loads
from core.roles import can_write
from experiments.api.serializers import MetricInput
from experiments.models import Metric, MetricType
from experiments.services.metrics import CURVE_TYPES, VALUE_TYPES, metric_create, metric_update

TEMPLATE = "experiments/metric_form.html"
FIELDS = (
    "key",
    "name",
    "description",
    "type",
    "event",
    "value_field",
    "numerator_event",
    "numerator_value_field",
    "denominator_event",
    "denominator_value_field",
    "window_hours",
    "retention_day",
    "filter",
    "numerator_filter",
    "denominator_filter",
    "min_events",
    "among_converted",
    "activity",
    "horizon_days",
    "direction",
    "winsorize_percentile",
    "display_format",
    "currency",
)


@login_required
def metric_list_page(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    metrics = Metric.objects.prefetch_related("experiment_links__experiment").order_by("key")
    if query:
        metrics = metrics.filter(name__icontains=query) | metrics.filter(key__icontains=query)
    context = {"nav": "metrics", "metrics": metrics, "q": query}
    template = "experiments/metric_list.html"
    if request.htmx and request.GET.get("q") is not None:
        template += "#metric-table"
    return render(request, template, context)


def format_choices() -> list[tuple[str, str]]:
    """The display formats in the reader's language (``core.vocab.DisplayFormat``)."""
    return [
        (
            "",
            _(
                "By type: rate for conversion, retention and count threshold, count for distinct "
                "active days, number otherwise"
            ),
        ),
        ("rate", _("Rate: a percentage, differences in percentage points")),
        ("currency", _("Currency")),
        ("count", _("Count")),
        ("duration", _("Duration (seconds)")),
        ("number", _("Number")),
    ]


def _json_text(value: Any) -> str:
    """A stored filter as the form shows it (empty: no filter)."""
    return json.dumps(value, ensure_ascii=False) if value else ""


def _values_of(metric: Metric | None) -> dict[str, str]:
    if metric is None:
        return {"type": "conversion", "window_hours": "168", "direction": "up"}
    numerator, denominator = metric.numerator or {}, metric.denominator or {}
    return {
        "key": metric.key,
        "name": metric.name,
        "description": metric.description,
        "type": metric.type,
        "event": metric.event,
        "value_field": metric.value_field,
        "numerator_event": numerator.get("event") or "",
        "numerator_value_field": numerator.get("value_field") or "",
        "denominator_event": denominator.get("event") or "",
        "denominator_value_field": denominator.get("value_field") or "",
        "window_hours": str(metric.window_hours),
        "retention_day": str(metric.retention_day or ""),
        "filter": _json_text(metric.filter),
        "numerator_filter": _json_text(numerator.get("filter")),
        "denominator_filter": _json_text(denominator.get("filter")),
        "min_events": str(metric.min_events or ""),
        "among_converted": "on" if metric.among_converted else "",
        "activity": _json_text(metric.activity),
        "horizon_days": str(metric.horizon_days or ""),
        "direction": "up" if metric.higher_is_better else "down",
        "winsorize_percentile": (
            f"{metric.winsorize_percentile:g}" if metric.winsorize_percentile else ""
        ),
        "display_format": metric.display_format,
        "currency": metric.currency,
    }


def _filter(
    values: dict[str, str], name: str, errors: dict[str, list[str]], field: str
) -> dict[str, Any] | None:
    """The filter typed as JSON in the form's ``name`` (None when empty), or None with the
    problem in ``errors[field]``."""
    text = values.get(name, "")
    if not text:
        return None
    try:
        return json_loads(text)
    except JsonTooDeep as exc:
        errors[field] = [str(exc)]
    except ValueError as exc:
        errors[field] = [_("Not valid JSON: %(error)s.") % {"error": exc}]
    return None


def metric_input(values: dict[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The API's metric input shape for the form's values (fields of other types cleared), and
    the filters that are not JSON, by the API's field name."""
    kind = values.get("type", "")
    errors: dict[str, list[str]] = {}
    raw: dict[str, Any] = {
        "key": values.get("key", ""),
        "name": values.get("name", ""),
        "description": values.get("description", ""),
        "type": kind,
        "higher_is_better": values.get("direction") != "down",
        "event": values.get("event", "")
        if kind not in (MetricType.RATIO, MetricType.RETENTION_CURVE)
        else "",
        "value_field": values.get("value_field", ""),
        "numerator": None,
        "denominator": None,
        "retention_day": values.get("retention_day") or None,
        "filter": _filter(values, "filter", errors, "filter")
        if kind not in (MetricType.RATIO, MetricType.RETENTION_CURVE)
        else None,
        "activity": _filter(values, "activity", errors, "activity")
        if kind == MetricType.RETENTION_CURVE
        else None,
        "horizon_days": (values.get("horizon_days") or None) if kind in CURVE_TYPES else None,
        "min_events": values.get("min_events") or None,
        "among_converted": bool(values.get("among_converted")),
        "winsorize_percentile": values.get("winsorize_percentile") or None,
        "display_format": values.get("display_format", ""),
        "currency": values.get("currency", "")
        if values.get("display_format") == "currency"
        else "",
    }
    if values.get("window_hours"):
        raw["window_hours"] = values["window_hours"]
    if kind not in VALUE_TYPES:
        raw["value_field"] = ""
    if kind != MetricType.RETENTION:
        raw["retention_day"] = None
    if kind != MetricType.COUNT_THRESHOLD:
        raw["min_events"], raw["among_converted"] = None, False
    if kind == MetricType.RATIO:
        for part in ("numerator", "denominator"):
            raw[part] = {
                "event": values.get(f"{part}_event", ""),
                "value_field": values.get(f"{part}_value_field") or None,
            }
            where = _filter(values, f"{part}_filter", errors, f"{part}.filter")
            if where is not None:
                raw[part]["filter"] = where
    return raw, errors


def _post_values(post: QueryDict) -> dict[str, str]:
    return {name: post.get(name, "").strip() for name in FIELDS}


def _save(request: HttpRequest, metric: Metric | None, values: dict[str, str]) -> Any:
    """The saved metric, or the errors keyed like the API's (``numerator.event``)."""
    if metric is not None:
        values["key"] = metric.key
    raw, errors = metric_input(values)
    serializer = MetricInput(data=raw, context={"form_text": True})
    valid = serializer.is_valid()
    if errors or not valid:
        return {**(flatten(serializer.errors) if not valid else {}), **errors}
    actor = actor_from_request(request)
    try:
        if metric is None:
            return metric_create(actor=actor, data=dict(serializer.validated_data))
        return metric_update(actor=actor, metric=metric, data=dict(serializer.validated_data))
    except ValidationFailed as failed:
        return failed.errors


def _form(request: HttpRequest, metric: Metric | None) -> HttpResponse:
    if not can_write(request.user):
        raise PermissionDenied(_("Viewers cannot change the metrics library."))
    inline = request.GET.get("inline") == "1"
    values = _values_of(metric)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = _post_values(request.POST)
        if request.POST.get("action") != "retype":
            result = _save(request, metric, values)
            if isinstance(result, Metric):
                if inline:
                    response = render(
                        request, TEMPLATE + "#metric-created", {"created": result, "inline": True}
                    )
                    response["HX-Trigger"] = "metric-created"
                    return response
                messages.success(request, _("Metric saved."))
                return redirect("web:metric-list")
            errors = result
    context = {
        "nav": "metrics",
        "metric": metric,
        "m": values,
        "errors": {key.replace(".", "_"): value for key, value in errors.items()},
        "types": MetricType.choices,
        "formats": format_choices(),
        "inline": inline,
        "used_by": (
            [link.experiment for link in metric.experiment_links.select_related("experiment")]
            if metric
            else []
        ),
    }
    template = TEMPLATE
    if request.htmx and (inline or request.POST.get("action") == "retype"):
        template += "#metric-form"
    return render(request, template, context)


@login_required
def metric_create_page(request: HttpRequest) -> HttpResponse:
    return _form(request, None)


@login_required
def metric_edit_page(request: HttpRequest, key: str) -> HttpResponse:
    metric = Metric.objects.filter(key=key).first()
    if metric is None:
        raise Http404(_("No metric with this key."))
    return _form(request, metric)
