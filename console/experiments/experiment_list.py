"""The experiments list: search and filters (a plain GET form, enhanced by HTMX), one row per
experiment with its latest results when it runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from console.labels import KIND_LABELS, STATUS_LABELS, label
from console.report.views import metric_formats
from experiments.models import Experiment, ExperimentStatus
from experiments.selectors import experiment_days_running

from . import selectors
from .list_summary import SnapshotSummary, latest_snapshot_summaries

PAGE_SIZE = 50


class ExperimentFilterForm(forms.Form):
    """The list's filters; an unknown value is an error shown next to its field."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("Status"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    layer = forms.ChoiceField(label=_("Layer"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        anyone = [("", _("All"))]
        self.fields["status"].choices = anyone + list(STATUS_LABELS.items())
        self.fields["kind"].choices = anyone + list(KIND_LABELS.items())
        self.fields["owner"].choices = anyone + [
            (str(u.pk), u.get_username()) for u in selectors.experiment_owners()
        ]
        self.fields["layer"].choices = anyone + [
            (layer.key, layer.name or layer.key) for layer in selectors.layer_choices()
        ]


@dataclass
class Row:
    experiment: Experiment
    status_label: str
    kind_label: str
    primary_metric: str
    days_running: int | None
    summary: SnapshotSummary | None


def _primary(experiment: Experiment) -> str:
    for link in experiment.metric_links.all():
        if link.role == "primary":
            return link.metric.name
    return ""


def _active_filters(form: ExperimentFilterForm) -> list[tuple[str, str]]:
    """(field label, chosen value label) of each filter in use, for the "filtered by" line."""
    active = []
    for name in ("q", "status", "kind", "owner", "layer"):
        value = form.cleaned_data.get(name)
        if value:
            choices = dict(getattr(form.fields[name], "choices", []))
            active.append((str(form.fields[name].label), str(choices.get(value, value))))
    return active


@login_required
def experiment_list_page(request: HttpRequest) -> HttpResponse:
    form = ExperimentFilterForm(request.GET or None)
    experiments = Experiment.objects.none()
    active: list[tuple[str, str]] = []
    status = 200
    if not request.GET or form.is_valid():
        data = form.cleaned_data if request.GET else {}
        owner = data.get("owner")
        experiments = selectors.experiment_list_filtered(
            search=(data.get("q") or "").strip(),
            status=data.get("status") or None,
            kind=data.get("kind") or None,
            owner_id=int(owner) if owner else None,
            layer_key=data.get("layer") or None,
        )
        active = _active_filters(form) if request.GET else []
    else:
        status = 400
    page = Paginator(experiments, PAGE_SIZE).get_page(request.GET.get("page"))
    live = [e for e in page.object_list if e.status in (ExperimentStatus.RUNNING, "paused")]
    summaries = latest_snapshot_summaries(
        experiment_ids=[e.pk for e in live],
        formats={e.pk: metric_formats(e) for e in live},
    )
    now = timezone.now()
    rows = [
        Row(
            experiment=e,
            status_label=label(STATUS_LABELS, e.status),
            kind_label=label(KIND_LABELS, e.kind),
            primary_metric=_primary(e),
            days_running=experiment_days_running(experiment=e, now=now),
            summary=summaries.get(e.pk),
        )
        for e in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "nav": "experiments",
        "form": form,
        "rows": rows,
        "page": page,
        "active_filters": active,
        "query": query.urlencode(),
    }
    template = "experiments/experiment_list.html"
    if request.htmx:
        template += "#experiment-table"
    return render(request, template, context, status=status)
