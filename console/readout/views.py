"""The readout (复盘) of an experiment: what was expected when it was designed, what was measured,
the decision with its reasons, economics, guardrails, segments with their SRM, health, the
lifecycle as the audit log recorded it, and the learnings an editor writes.

It reads one snapshot (the latest, or the one in its permalink) through the report's own
context (``console.report.views.report_context``: typed results, rows, economics, words), and
adds the plan, the timeline and the learnings. The page prints to PDF from the browser
(``verdict/readout.css``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from console.form_errors import add_service_errors
from console.labels import ACTION_LABELS, DECISION_LABELS, label
from console.report.rows import Row, segment_attributes, segment_tables
from console.report.views import report_context
from core.actors import actor_from_request
from core.errors import ValidationFailed
from core.roles import can_write
from experiments import selectors as experiment_selectors
from experiments.models import Experiment
from experiments.selectors import experiment_or_404
from experiments.services.experiments import MAX_LEARNINGS_LENGTH, experiment_learnings_set

TEMPLATE = "experiments/experiment_readout.html"
# The audit-log actions the timeline shows: the experiment's lifecycle and plan changes.
TIMELINE_ACTIONS = (
    "create",
    "start",
    "pause",
    "resume",
    "stop",
    "new_phase",
    "plan_change",
    "conclude",
    "archive",
)


class LearningsForm(forms.Form):
    learnings = forms.CharField(
        label=gettext_lazy("Learnings"),
        required=False,
        max_length=MAX_LEARNINGS_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6, "class": "prose"}),
        help_text=gettext_lazy("What we learned, and what to do next."),
    )


def _signed_percent(value: float) -> str:
    x = round(value * 100, 2)  # number_format cuts a float's digits off instead of rounding
    return f"{'+' if x > 0 else ''}{number_format(x, 2)}%"


def interval_text(row: Row) -> str:
    """A row's interval of the relative effect in the reader's locale: '[+1.20%, +7.85%]'."""
    ci = row.variant.ci
    if ci is None or ci[0] is None or ci[1] is None:
        return "—"
    return f"[{_signed_percent(ci[0])}, {_signed_percent(ci[1])}]"


def _rows(tables: list[Any], role: str) -> list[dict[str, Any]]:
    return [
        {"row": row, "interval": interval_text(row)}
        for table in tables
        if table.role == role
        for row in table.rows
    ]


def _segments(results: Any) -> list[dict[str, Any]]:
    """Every segment attribute's values with their units, SRM and effects (all attributes, as
    a printed page has no tabs)."""
    out = []
    for attribute in segment_attributes(results):
        tables, _ticks = segment_tables(results, attribute)
        for table in tables:
            out.append(
                {
                    "attribute": attribute,
                    "value": table.value,
                    "units": table.units,
                    "srm": table.srm,
                    "rows": [{"row": r, "interval": interval_text(r)} for r in table.rows],
                }
            )
    return out


def _timeline(experiment: Experiment) -> list[dict[str, Any]]:
    """The lifecycle events of the audit log, oldest first."""
    entries = experiment_selectors.experiment_audit(experiment=experiment).filter(
        action__in=TIMELINE_ACTIONS
    )
    return [
        {"entry": e, "label": label(ACTION_LABELS, e.action)} for e in reversed(list(entries[:200]))
    ]


def readout_context(
    request: HttpRequest,
    experiment: Experiment,
    *,
    snapshot_id: int | None = None,
    form: LearningsForm | None = None,
) -> dict[str, Any]:
    context = report_context(request, experiment, snapshot_id=snapshot_id)
    snapshot = context.get("snapshot")
    tables = context.get("tables") or []
    writer = can_write(request.user)
    context |= {
        "readout_url": reverse("web:experiment-readout", args=[experiment.key]),
        "readout_permalink": (
            reverse("web:experiment-readout-snapshot", args=[experiment.key, snapshot.pk])
            if snapshot is not None
            else None
        ),
        "learnings_url": reverse("web:experiment-learnings", args=[experiment.key]),
        "detail_url": reverse("web:experiment-detail", args=[experiment.key]),
        "primary_rows": _rows(tables, "primary"),
        "secondary_rows": _rows(tables, "secondary"),
        "guardrail_rows": _rows(tables, "guardrail"),
        "segment_rows": _segments(context["results"]) if context.get("results") else [],
        "timeline": _timeline(experiment),
        "decision_label": label(DECISION_LABELS, experiment.decision)
        if experiment.decision
        else "",
        "plan_mde_percent": experiment.mde * 100 if experiment.mde is not None else None,
        "can_edit_learnings": writer,
        "learnings_form": (form or LearningsForm(initial={"learnings": experiment.learnings}))
        if writer
        else None,
    }
    return context


@login_required
def readout_page(request: HttpRequest, key: str, snapshot_id: str | None = None) -> HttpResponse:
    """The readout of the latest snapshot, or of one snapshot (its permalink)."""
    experiment = experiment_or_404(key)
    pinned = int(snapshot_id) if snapshot_id else None
    return render(request, TEMPLATE, readout_context(request, experiment, snapshot_id=pinned))


@login_required
@require_POST
def readout_learnings(request: HttpRequest, key: str) -> HttpResponse:
    """Write the learnings (editors and admins; 403 for viewers), then back to the readout."""
    if not can_write(request.user):
        raise PermissionDenied(_("Viewers cannot change experiments."))
    experiment = experiment_or_404(key)
    form = LearningsForm(request.POST)
    if form.is_valid():
        try:
            experiment_learnings_set(
                actor=actor_from_request(request),
                experiment=experiment,
                learnings=form.cleaned_data["learnings"],
            )
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The learnings are saved."))
            return redirect(reverse("web:experiment-readout", args=[experiment.key]) + "#learnings")
    context = readout_context(request, experiment, form=form)
    return render(request, TEMPLATE, context, status=400)
