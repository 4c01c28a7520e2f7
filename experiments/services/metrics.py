"""The metrics library: create, edit and delete reusable metric definitions."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.actors import Actor
from core.errors import ValidationFailed
from core.limits import EVENT_NAME_HELP, is_event_name
from core.vocab import display_format_of
from experiments.models import ExperimentStatus, Metric, MetricType
from experiments.models.metric import DisplayFormat
from experiments.targeting.event_filter import validate_event_filter

from .audit import audit_record

FIELDS = (
    "name",
    "description",
    "type",
    "event",
    "value_field",
    "numerator",
    "denominator",
    "window_hours",
    "retention_day",
    "filter",
    "min_events",
    "among_converted",
    "activity",
    "horizon_days",
    "higher_is_better",
    "winsorize_percentile",
    "display_format",
    "currency",
)

# The fields only pages read (how a metric is named and shown). Every other field changes what
# the analysis computes, so it is fixed while an experiment that uses the metric is live.
PRESENTATION_FIELDS = frozenset({"name", "description", "display_format", "currency"})
LIVE_STATUSES = (ExperimentStatus.RUNNING, ExperimentStatus.PAUSED)
NULLABLE_FIELDS = frozenset(
    {
        "numerator",
        "denominator",
        "retention_day",
        "winsorize_percentile",
        "filter",
        "min_events",
        "activity",
        "horizon_days",
    }
)
# The types measured over one event (every type but ratio, whose parts name their own, and the
# retention curve, active on any of its ``activity`` events).
SINGLE_EVENT_TYPES = frozenset(MetricType.values) - {MetricType.RATIO, MetricType.RETENTION_CURVE}
# The types that sum a value of the event.
VALUE_TYPES = frozenset({MetricType.MEAN, MetricType.CONDITIONAL_MEAN, MetricType.VALUE_CURVE})
# The curves: a point per day since exposure up to ``horizon_days`` (default and limit).
CURVE_TYPES = frozenset({MetricType.RETENTION_CURVE, MetricType.VALUE_CURVE})
DEFAULT_HORIZON_DAYS = 30
MAX_HORIZON_DAYS = 90
# A retention curve's activity: at most this many events (any of them makes a unit active).
MAX_ACTIVITY_EVENTS = 6


def _check_event(value: Any, field: str, errors: dict[str, list[str]]) -> None:
    if not value:
        errors.setdefault(field, []).append(_("An event name is required for this metric type."))
    elif not is_event_name(value):
        errors.setdefault(field, []).append(
            _("%(value)s is not a valid event name (%(rule)s).")
            % {"value": repr(value), "rule": EVENT_NAME_HELP}
        )


def _check_filter(condition: Any, field: str, errors: dict[str, list[str]]) -> None:
    """An event filter (``None`` or ``{}``: every event) in the subset that compiles to SQL, with
    the targeting condition's messages."""
    if condition is None:
        return
    for problem in validate_event_filter(condition):
        errors.setdefault(field, []).append(problem.translated(_))


def _check_part(part: Any, field: str, errors: dict[str, list[str]]) -> None:
    if not isinstance(part, dict):
        errors.setdefault(field, []).append(
            _('Expected an object like {"event": "purchase", "value_field": "revenue"}.')
        )
        return
    _check_filter(part.get("filter"), f"{field}.filter", errors)
    unknown = set(part) - {"event", "value_field", "filter"}
    if unknown:
        errors.setdefault(field, []).append(
            _("Unknown keys: %(keys)s.") % {"keys": ", ".join(sorted(unknown))}
        )
    _check_event(part.get("event"), f"{field}.event", errors)
    vf = part.get("value_field")
    if vf is not None and (not isinstance(vf, str) or not vf):
        errors.setdefault(f"{field}.value_field", []).append(_("Must be a field name or null."))


def _check_activity(activity: Any, errors: dict[str, list[str]]) -> None:
    """A retention curve's activity: 1 to ``MAX_ACTIVITY_EVENTS`` distinct events, each
    ``{"event": ..., "filter": ...}``."""
    if not isinstance(activity, list) or not 1 <= len(activity) <= MAX_ACTIVITY_EVENTS:
        errors.setdefault("activity", []).append(
            _(
                "A retention curve needs activity: a list of 1 to %(most)s events, like "
                '[{"event": "app_open"}, {"event": "purchase", "filter": {"coupon": "NEW10"}}].'
            )
            % {"most": MAX_ACTIVITY_EVENTS}
        )
        return
    seen: list[Any] = []
    for i, item in enumerate(activity):
        field = f"activity[{i}]"
        if not isinstance(item, dict):
            errors.setdefault(field, []).append(
                _('Expected an object like {"event": "app_open", "filter": null}.')
            )
            continue
        unknown = set(item) - {"event", "filter"}
        if unknown:
            errors.setdefault(field, []).append(
                _("Unknown keys: %(keys)s.") % {"keys": ", ".join(sorted(unknown))}
            )
        _check_event(item.get("event"), f"{field}.event", errors)
        _check_filter(item.get("filter"), f"{field}.filter", errors)
        same = (item.get("event"), item.get("filter") or None)
        if same in seen:
            errors.setdefault(field, []).append(
                _("This event and filter are already listed: list each once.")
            )
        seen.append(same)


def metric_errors(data: dict[str, Any]) -> dict[str, list[str]]:
    """What is wrong with a metric definition (empty when it is valid)."""
    errors: dict[str, list[str]] = {}
    kind = data.get("type")
    if kind not in MetricType.values:
        errors["type"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(MetricType.values)}
        ]
        return errors
    if kind in SINGLE_EVENT_TYPES:
        _check_event(data.get("event"), "event", errors)
        _check_filter(data.get("filter"), "filter", errors)
    elif data.get("filter") and kind == MetricType.RATIO:
        errors["filter"] = [
            _("A ratio metric filters the events of its numerator and denominator instead.")
        ]
    elif data.get("filter"):
        errors["filter"] = [_("A retention curve filters each of its activity events instead.")]
    if kind == MetricType.RETENTION_CURVE:
        _check_activity(data.get("activity"), errors)
    if kind in CURVE_TYPES:
        horizon = data.get("horizon_days")
        if (
            isinstance(horizon, bool)
            or not isinstance(horizon, int)
            or not 1 <= horizon <= MAX_HORIZON_DAYS
        ):
            errors["horizon_days"] = [
                _("The horizon is a whole number of days from 1 to %(most)s.")
                % {"most": MAX_HORIZON_DAYS}
            ]
    if kind in VALUE_TYPES and not data.get("value_field"):
        errors["value_field"] = [_('A mean metric needs the value field to sum (e.g. "revenue").')]
    if kind == MetricType.COUNT_THRESHOLD:
        count = data.get("min_events")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            errors["min_events"] = [
                _("A count threshold metric needs min_events, a whole number >= 1.")
            ]
    if not isinstance(data.get("among_converted", False), bool):
        errors["among_converted"] = [_("Must be true or false.")]
    if kind == MetricType.RATIO:
        _check_part(data.get("numerator"), "numerator", errors)
        _check_part(data.get("denominator"), "denominator", errors)
    if kind == MetricType.RETENTION:
        day = data.get("retention_day")
        if not isinstance(day, int) or day < 1:
            errors["retention_day"] = [
                _("A retention metric needs retention_day, a whole number >= 1.")
            ]
    window = data.get("window_hours", 168)
    if not isinstance(window, int) or window < 1:
        errors["window_hours"] = [_("The window is a whole number of hours, at least 1.")]
    pct = data.get("winsorize_percentile")
    if pct is not None and not (isinstance(pct, int | float) and 0 < pct <= 100):
        errors["winsorize_percentile"] = [_("A percentile between 0 (exclusive) and 100.")]
    display_format = data.get("display_format") or ""
    if display_format and display_format not in DisplayFormat.values:
        errors["display_format"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(DisplayFormat.values)}
        ]
    currency = data.get("currency") or ""
    if currency and not (isinstance(currency, str) and re.fullmatch(r"[A-Za-z]{3}", currency)):
        errors["currency"] = [_('A three-letter ISO 4217 currency code, such as "CNY" or "USD".')]
    elif display_format == DisplayFormat.CURRENCY and not currency:
        errors["currency"] = [
            _('A currency format needs its currency: a code such as "CNY" or "USD".')
        ]
    return errors


def _normalized(data: dict[str, Any]) -> dict[str, Any]:
    """The data with its currency code in capitals, an empty filter stored as none (every
    event), and the count threshold's fields only on count threshold metrics."""
    out = dict(data)
    if out.get("currency"):
        out["currency"] = str(out["currency"]).upper()
    if out.get("filter") == {}:
        out["filter"] = None
    for part in ("numerator", "denominator"):
        value = out.get(part)
        if isinstance(value, dict) and "filter" in value and not value["filter"]:
            out[part] = {k: v for k, v in value.items() if k != "filter"}
    if "type" in out and out["type"] != MetricType.COUNT_THRESHOLD:
        out["min_events"], out["among_converted"] = None, False
    if "type" in out and out["type"] != MetricType.RETENTION_CURVE:
        out["activity"] = None
    elif isinstance(out.get("activity"), list):
        out["activity"] = [
            {k: v for k, v in item.items() if k != "filter" or v}
            if isinstance(item, dict)
            else item
            for item in out["activity"]
        ]
    if "type" in out and out["type"] not in CURVE_TYPES:
        out["horizon_days"] = None
    elif "type" in out and out.get("horizon_days") is None:
        out["horizon_days"] = DEFAULT_HORIZON_DAYS
    return out


def metric_change_refusals(
    *, metric: Metric, before: dict[str, Any], after: dict[str, Any]
) -> dict[str, list[str]]:
    """Why a change to ``metric`` is refused (empty when it is allowed): a field the analysis
    reads cannot change while a running or paused experiment uses the metric."""
    changed = [
        field
        for field in FIELDS
        if field not in PRESENTATION_FIELDS and before.get(field) != after.get(field)
    ]
    if not changed:
        return {}
    live = sorted(
        set(
            metric.experiment_links.filter(experiment__status__in=LIVE_STATUSES).values_list(
                "experiment__key", flat=True
            )
        )
    )
    if not live:
        return {}
    message = _(
        'Metric "%(key)s" is used by running or paused experiments: %(experiments)s. Changing '
        "its %(field)s would change their analysis; create a new metric, or stop them first."
    )
    return {
        field: [message % {"key": metric.key, "experiments": ", ".join(live), "field": field}]
        for field in changed
    }


@transaction.atomic
def metric_create(*, actor: Actor, data: dict[str, Any]) -> Metric:
    data = _normalized(data)
    errors = metric_errors(data)
    if Metric.objects.filter(key=data.get("key")).exists():
        errors.setdefault("key", []).append(
            _('A metric with key "%(key)s" exists.') % {"key": data["key"]}
        )
    if errors:
        raise ValidationFailed(errors)
    metric = Metric(key=data["key"])
    for field in FIELDS:
        if field in data and data[field] is not None:
            setattr(metric, field, data[field])
    if not metric.display_format:
        metric.display_format = display_format_of(metric.type)
    metric.save()
    audit_record(
        actor=actor, action="create", object_type="metric", object_key=metric.key, after=data
    )
    return metric


@transaction.atomic
def metric_update(*, actor: Actor, metric: Metric, data: dict[str, Any]) -> Metric:
    if "key" in data and data["key"] != metric.key:
        raise ValidationFailed({"key": [_("A metric's key cannot change; create a new metric.")]})
    before = {field: getattr(metric, field) for field in FIELDS}
    merged = {**before, **_normalized(data)}
    errors = metric_errors(merged)
    if errors:
        raise ValidationFailed(errors)
    stored = {
        field: value if value is not None or field in NULLABLE_FIELDS else ""
        for field, value in merged.items()
        if field in FIELDS
    }
    refused = metric_change_refusals(metric=metric, before=before, after=stored)
    if refused:
        raise ValidationFailed(refused)
    if stored == before:
        return metric  # nothing changes: nothing written, nothing audited
    for field in FIELDS:
        setattr(metric, field, stored[field])
    metric.save()
    after = {field: getattr(metric, field) for field in FIELDS}
    audit_record(
        actor=actor,
        action="update",
        object_type="metric",
        object_key=metric.key,
        before=before,
        after=after,
    )
    return metric


@transaction.atomic
def metric_delete(*, actor: Actor, metric: Metric) -> None:
    used_by = list(metric.experiment_links.values_list("experiment__key", flat=True))
    if used_by:
        raise ValidationFailed(
            _('Metric "%(key)s" is used by experiments: %(used_by)s. Unlink it from them first.')
            % {"key": metric.key, "used_by": ", ".join(used_by)}
        )
    audit_record(actor=actor, action="delete", object_type="metric", object_key=metric.key)
    metric.delete()
