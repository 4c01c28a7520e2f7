"""The significance report: the experiment page's Results tab, rendered from typed results.

``report_context`` builds everything the page shows; other sections (economics) extend it.
Partials of ``analysis/report.html``: ``tab-panel`` (the tab bar and the report, for the
experiment page's HTMX tab switch), ``report-body`` (header, decision, notable changes,
tables) and ``refresh-status`` (the polled progress of a queued refresh).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from rest_framework.exceptions import APIException

from analysis import selectors
from analysis.engine.codes import ReasonCode
from analysis.engine.contract import UnknownSchemaVersion
from analysis.models import ResultSnapshot, SnapshotStatus
from analysis.services.refresh import experiment_refresh_request
from analysis.words import Labels, decision_reasons, health_message, labels_of
from analysis.words.formats import NumberFormat, metric_format, p_value
from analysis.words.segments import segment_dimension_label
from assignment.services.client_exposures import client_exposure_rejections
from console.experiments.experiment_page import experiment_page_context
from console.partials import partial_template
from core.roles import can_write
from experiments.models import Experiment, ExperimentStatus
from experiments.selectors import experiment_days_running, experiment_or_404

from .curve_chart import curve_chart
from .detail import daily_units, days_left, effect_over_time
from .economics import economics_context
from .rows import (
    BAR_WIDTH,
    Row,
    guardrail_alerts,
    metric_tables,
    notable_changes,
    segment_attributes,
    segment_tables,
    units_split,
)

TEMPLATE = "analysis/report.html"
PRINT_TEMPLATE = "analysis/report_print.html"
METRIC_TEMPLATE = "analysis/report_metric.html"
PARTIALS = {
    target: TEMPLATE for target in ("tab-panel", "report-body", "refresh-status", "segments")
}
# The report is the experiment page's Results tab (its header and tab bar).
PAGE_TAB = "results"


def _recommendation_label(recommendation: str, variant: str | None) -> str:
    labels = {
        "ship": _("Ship %(variant)s") % {"variant": variant or ""},
        "keep_control": _("Keep the control"),
        "keep_running": _("Keep running"),
        "inconclusive": _("Inconclusive"),
    }
    return labels.get(recommendation, recommendation)


def _srm_label(level: str) -> str:
    return {"ok": _("OK"), "warning": _("Warning"), "error": _("Error")}.get(level, level)


def _rejection_reasons() -> dict[str, str]:
    return {
        "variant_mismatch": _("the unit does not hash to the reported variant"),
        "not_running": _("the experiment was not running"),
    }


def client_rejections(experiment: Experiment) -> dict[str, Any] | None:
    """Exposures that client SDKs reported and Verdict rejected in the current phase (a broken
    or stale client), by reason in words; None when there were none."""
    counts = client_exposure_rejections(experiment=experiment)
    total = sum(counts.values())
    if not total:
        return None
    labels = _rejection_reasons()
    return {
        "total": total,
        "reasons": [
            {"reason": reason, "label": labels.get(reason, reason), "count": n}
            for reason, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        ],
    }


def metric_formats(experiment: Experiment) -> dict[str, NumberFormat]:
    """Each of the experiment's metrics' number format (from the prefetched metric links)."""
    return {
        link.metric.key: metric_format(
            link.metric.type, link.metric.display_format, link.metric.currency
        )
        for link in experiment.metric_links.all()
    }


GUARDRAIL_REASONS = (ReasonCode.GUARDRAIL_WORSE, ReasonCode.GUARDRAIL_INTERVAL_HARMFUL)


def guardrail_alert_lines(results: Any, rows: list[Row]) -> list[str]:
    """A sentence for each worse guardrail the decision's reasons do not already name: the
    banner names every guardrail the tables, the health checks and the breaker call worse,
    with what to do."""
    named = {
        (c.params.get("metric"), c.params.get("variant"))
        for c in results.decision.reason_codes
        if c.code in GUARDRAIL_REASONS
    }
    lines = []
    for row in rows:
        if (row.metric.metric, row.variant.variant) in named:
            continue
        if row.has_relative:
            change, low, high = row.effect_text, row.low_text, row.high_text
        else:
            change, low, high = row.absolute_text, row.absolute_low_text, row.absolute_high_text
        lines.append(
            _(
                "Guardrail %(metric)s is worse for %(variant)s: %(change)s (interval %(low)s to "
                "%(high)s). Do not ship %(variant)s; consider stopping or pausing it and look "
                "at the segments to see who is affected."
            )
            % {
                "metric": row.metric.name,
                "variant": row.variant.name,
                "change": change,
                "low": low,
                "high": high,
            }
        )
    return lines


def _when(value: str | None) -> dt.datetime | None:
    return parse_datetime(value) if value else None


PICKER_LIMIT = 50


def _picker(experiment: Experiment) -> list[ResultSnapshot]:
    """The snapshot picker's good snapshots, newest first, with their id and time only (not
    their results, which a long history would otherwise load on every render)."""
    return list(
        ResultSnapshot.objects.filter(experiment=experiment, status=SnapshotStatus.OK)
        .order_by("-computed_at", "-id")
        .only("id", "as_of", "experiment_id")[:PICKER_LIMIT]
    )


def _snapshot(experiment: Experiment, snapshot_id: int | None) -> ResultSnapshot | None:
    if snapshot_id is None:
        return selectors.snapshot_latest(experiment=experiment)
    snapshot = ResultSnapshot.objects.filter(
        experiment=experiment, pk=snapshot_id, status=SnapshotStatus.OK
    ).first()
    if snapshot is None:
        raise Http404(f"No snapshot {snapshot_id} for this experiment.")
    return snapshot


def report_context(
    request: HttpRequest, experiment: Experiment, *, snapshot_id: int | None = None
) -> dict[str, Any]:
    """The header and tab bar of the experiment page plus the report of one snapshot."""
    context = experiment_page_context(request, experiment, PAGE_TAB)
    snapshot = _snapshot(experiment, snapshot_id)
    attempt = selectors.snapshot_last_attempt(experiment=experiment)
    report_url = reverse("analysis-web:report", args=[experiment.key])
    context |= {
        "snapshot": snapshot,
        "last_attempt": attempt,
        "refresh_failed": attempt is not None and attempt.status == SnapshotStatus.FAILED,
        "history": _picker(experiment),
        "report_url": report_url,
        "refresh_url": reverse("analysis-web:report-refresh", args=[experiment.key]),
        "csv_url": f"/api/v1/experiments/{experiment.key}/results.csv",
        "json_url": f"/api/v1/experiments/{experiment.key}/results",
        "can_refresh": can_write(request.user),
        "pinned": snapshot_id is not None,
    }
    context["days_running"] = experiment_days_running(experiment=experiment, now=timezone.now())
    if snapshot is None:
        return context
    try:
        results = selectors.snapshot_results(snapshot=snapshot)
    except (KeyError, TypeError, ValueError, UnknownSchemaVersion):
        context["unreadable"] = True
        return context
    power = results.power
    formats = metric_formats(experiment)
    labels: Labels = labels_of(results, formats)
    tables = metric_tables(results, formats)
    alerts = guardrail_alerts(tables)
    context |= {
        "results": results,
        "as_of": _when(results.as_of),
        "computed_at": _when(results.computed_at),
        "permalink": reverse("analysis-web:report-snapshot", args=[experiment.key, snapshot.pk]),
        "print_url": reverse("analysis-web:report-print", args=[experiment.key, snapshot.pk]),
        "units_split": units_split(results, labels.variants),
        "srm_label": _srm_label(results.srm.level),
        "srm_p": p_value(results.srm.p_value),
        "recommendation": _recommendation_label(
            results.decision.recommendation,
            labels.variants.get(results.decision.variant or "", results.decision.variant),
        ),
        "decision_reasons": decision_reasons(results.decision, labels),
        "guardrail_alerts": guardrail_alert_lines(results, alerts),
        "health_messages": [health_message(h, labels) for h in results.health],
        "client_rejections": client_rejections(experiment),
        "tables": tables,
        "metric_formats": formats,
        "bar_width": BAR_WIDTH,
        "notable": notable_changes(results, tables),
        "power": power,
        "mde_percent": None if power.current_mde is None else power.current_mde * 100,
        "sample_progress": (
            min(power.units_per_arm / power.required_units_per_arm * 100, 100.0)
            if power.required_units_per_arm
            else None
        ),
    }
    # A projection at the last week's traffic holds only while traffic comes in.
    if (
        power.required_units_per_arm
        and context["as_of"]
        and experiment.status == ExperimentStatus.RUNNING
    ):
        context["days_left"] = days_left(
            experiment=experiment,
            as_of=context["as_of"],
            units_per_arm=power.units_per_arm,
            required_per_arm=power.required_units_per_arm,
        )
    # Economics section (pricing and promotion experiments): console/report/economics.py
    context |= economics_context(experiment=experiment, snapshot=snapshot, results=results)
    context |= _segments(request, results, request.path, formats)
    return context


def _segments(
    request: HttpRequest,
    results: Any,
    base_url: str,
    formats: dict[str, NumberFormat] | None = None,
) -> dict[str, Any]:
    """Segment tabs: the chosen attribute (``?segment=``, else the first) and its tables."""
    attributes = segment_attributes(results)
    if not attributes:
        return {"segment_attributes": []}
    chosen = request.GET.get("segment")
    if chosen not in attributes:
        chosen = attributes[0]
    tables, ticks = segment_tables(results, chosen, formats)
    return {
        "segment_attributes": [
            {
                "name": a,
                "label": segment_dimension_label(a),
                "url": f"{base_url}?segment={a}",
                "current": a == chosen,
            }
            for a in attributes
        ],
        "segment": chosen,
        "segment_label": segment_dimension_label(chosen),
        "segments_corrected": any(s.corrected for s in results.segments),
        "segment_tables": tables,
        "segment_ticks": ticks,
    }


def _render(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    template = partial_template(request, TEMPLATE, default="tab-panel", partials=PARTIALS)
    return render(request, template, context)


@login_required
def report_page(request: HttpRequest, key: str, snapshot_id: str | None = None) -> HttpResponse:
    experiment = experiment_or_404(key)
    pinned = int(snapshot_id) if snapshot_id else None
    return _render(request, report_context(request, experiment, snapshot_id=pinned))


@login_required
def report_print_page(request: HttpRequest, key: str, snapshot_id: str) -> HttpResponse:
    experiment = experiment_or_404(key)
    context = report_context(request, experiment, snapshot_id=int(snapshot_id))
    results = context.get("results")
    if results is not None:  # on paper every segment attribute, not just the chosen one
        context["segments_corrected"] = any(s.corrected for s in results.segments)
        context["print_segments"] = [
            {
                "attribute": attribute,
                "label": segment_dimension_label(attribute),
                "tables": tables,
                "ticks": ticks,
            }
            for attribute in segment_attributes(results)
            for tables, ticks in [segment_tables(results, attribute, context.get("metric_formats"))]
        ]
    return render(request, PRINT_TEMPLATE, context)


@login_required
@require_POST
def report_refresh(request: HttpRequest, key: str) -> HttpResponse:
    """Queue a refresh (writers only, as in the API); HTMX gets the polled status partial."""
    if not can_write(request.user):
        raise PermissionDenied(_("Only editors and admins can refresh results."))
    experiment = experiment_or_404(key)
    latest = selectors.snapshot_last_attempt(experiment=experiment)
    try:
        experiment_refresh_request(experiment=experiment)
    except APIException as exc:
        if request.htmx:
            # Swapped in like any status (htmx leaves error responses unswapped).
            return render(request, f"{TEMPLATE}#refresh-status", {"refresh_error": str(exc.detail)})
        messages.error(request, str(exc.detail))
        return redirect("analysis-web:report", key=experiment.key)
    if not request.htmx:
        messages.info(request, _("Refresh queued: the new results appear here when ready."))
        return redirect("analysis-web:report", key=experiment.key)
    return _status(request, experiment, since=latest.pk if latest else 0)


def _status(request: HttpRequest, experiment: Experiment, *, since: int) -> HttpResponse:
    attempt = selectors.snapshot_last_attempt(experiment=experiment)
    done = attempt is not None and attempt.pk > since
    context = {
        "experiment": experiment,
        "since": since,
        "done": done,
        "attempt": attempt if done else None,
        "report_url": reverse("analysis-web:report", args=[experiment.key]),
        "status_url": reverse("analysis-web:report-status", args=[experiment.key]),
    }
    return render(request, f"{TEMPLATE}#refresh-status", context)


@login_required
def report_status(request: HttpRequest, key: str) -> HttpResponse:
    experiment = experiment_or_404(key)
    try:
        since = int(request.GET.get("since", "0"))
    except ValueError:
        since = 0
    return _status(request, experiment, since=since)


@login_required
def report_metric_page(request: HttpRequest, key: str, metric: str) -> HttpResponse:
    """A metric's effect over time and the daily units; HTMX gets the ``metric-detail`` part."""
    experiment = experiment_or_404(key)
    if not experiment.metric_links.filter(metric__key=metric).exists():
        raise Http404(f'No metric "{metric}" in this experiment.')
    link = experiment.metric_links.select_related("metric").get(metric__key=metric)
    context = experiment_page_context(request, experiment, PAGE_TAB) | {
        "metric": link.metric,
        "chart": effect_over_time(experiment=experiment, metric=metric),
        "curve": curve_chart(experiment=experiment, metric=metric),
        "daily": daily_units(experiment=experiment),
        "report_url": reverse("analysis-web:report", args=[experiment.key]),
    }
    template = METRIC_TEMPLATE
    if request.htmx:
        template += "#metric-detail"
    return render(request, template, context)
