"""The experiment page: header with the lifecycle buttons, and its tabs.

``experiment_page_context`` and ``experiment_page_render`` are shared with the tabs whose views
live elsewhere in the console: Results (``console.report``), Try it (``try_it``) and the QA
overrides' actions (``override_views``).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from console.labels import (
    ACTION_LABELS,
    CORRECTION_LABELS,
    DECISION_LABELS,
    HISTORY_KIND_LABELS,
    KIND_LABELS,
    METHOD_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    label,
)
from console.partials import partial_template
from core.roles import can_write
from experiments import selectors as base_selectors
from experiments.models import Experiment
from experiments.services.lifecycle import allowed_actions

from . import selectors
from .audit_diff import audit_entry_view
from .page_forms import OverrideForm
from .snippets import integration_snippets
from .targeting_words import targeting_in_words

TEMPLATE = "experiments/experiment_detail.html"
TABS = (
    ("overview", _("Overview")),
    ("results", _("Results")),
    ("try", _("Try it")),
    ("overrides", _("QA overrides")),
    ("audit", _("Audit log")),
    ("integrate", _("Integrate")),
)
# Tabs with a page of their own; the others are ``web:experiment-tab`` with their slug.
TAB_URL_NAMES = {
    "overview": "web:experiment-detail",
    "results": "analysis-web:report",
    "try": "assignment-web:try-it",
}
DANGER_ACTIONS = ("stop", "archive")
AUDIT_LIMIT = 200


def tab_url(experiment: Experiment, tab: str) -> str:
    """The address of the experiment page's ``tab``."""
    name = TAB_URL_NAMES.get(tab)
    if name is not None:
        return reverse(name, args=[experiment.key])
    return reverse("web:experiment-tab", args=[experiment.key, tab])


def _variants(experiment: Experiment) -> list[dict[str, Any]]:
    variants = list(experiment.variants.all())
    total = sum(v.weight for v in variants) or 1.0
    return [
        {
            "variant": v,
            "share": v.weight / total * 100,
            "payload": json.dumps(v.payload, ensure_ascii=False, indent=2),
        }
        for v in variants
    ]


def _metrics_by_role(experiment: Experiment) -> list[dict[str, Any]]:
    links = list(experiment.metric_links.all())
    return [
        {"role": role, "label": role_label, "links": [m for m in links if m.role == role]}
        for role, role_label in ROLE_LABELS.items()
        if any(m.role == role for m in links)
    ]


def _layer_bar(experiment: Experiment) -> dict[str, float] | None:
    if experiment.layer_start is None or experiment.layer_end is None:
        return None
    return {
        "offset": experiment.layer_start * 100,
        "width": (experiment.layer_end - experiment.layer_start) * 100,
    }


def _overview(experiment: Experiment) -> dict[str, Any]:
    return {
        "variants": _variants(experiment),
        "targeting_words": targeting_in_words(experiment.targeting),
        "targeting_json": json.dumps(experiment.targeting or {}, ensure_ascii=False, indent=2),
        "coverage_percent": experiment.coverage * 100,
        "layer_share_percent": experiment.layer_share * 100,
        "layer_bar": _layer_bar(experiment),
        "metric_roles": _metrics_by_role(experiment),
        "method_label": label(METHOD_LABELS, experiment.method),
        "correction_label": label(CORRECTION_LABELS, experiment.correction),
        "history_kinds_label": ", ".join(
            label(HISTORY_KIND_LABELS, kind)
            for kind in (experiment.history_segments or {}).get("kinds", [])
        ),
        "history_days": (experiment.history_segments or {}).get("days"),
        "segment_correction_label": label(CORRECTION_LABELS, experiment.segment_correction),
        "mde_percent": experiment.mde * 100 if experiment.mde is not None else None,
        "decision_label": label(DECISION_LABELS, experiment.decision),
    }


def _overrides(experiment: Experiment, request: HttpRequest) -> dict[str, Any]:
    return {
        "overrides": list(experiment.overrides.select_related("variant")),
        "override_form": OverrideForm(experiment=experiment),
    }


def _audit(experiment: Experiment) -> dict[str, Any]:
    entries = list(base_selectors.experiment_audit(experiment=experiment)[:AUDIT_LIMIT])
    return {
        "audit_rows": [
            {
                "entry": e,
                "view": audit_entry_view(
                    action=e.action, message=e.message, before=e.before, after=e.after
                ),
            }
            for e in entries
        ]
    }


def _integrate(experiment: Experiment, request: HttpRequest) -> dict[str, Any]:
    events = [link.metric.event for link in experiment.metric_links.all() if link.metric.event]
    base_url = request.build_absolute_uri("/").rstrip("/")
    return {
        "snippets": integration_snippets(experiment=experiment, base_url=base_url, events=events)
    }


def experiment_page_context(
    request: HttpRequest, experiment: Experiment, tab: str, **extra: Any
) -> dict[str, Any]:
    """Everything the page needs for ``tab``: header, tab links, and that tab's data."""
    writer = can_write(request.user)
    actions = [
        {
            "name": name,
            "label": label(ACTION_LABELS, name),
            "danger": name in DANGER_ACTIONS,
            "url": reverse("web:experiment-action", args=[experiment.key, name]),
        }
        for name in allowed_actions(experiment.status)
    ]
    edit_url = reverse("web:experiment-edit", kwargs={"key": experiment.key}) if writer else None
    context: dict[str, Any] = {
        "nav": "experiments",
        "experiment": experiment,
        "status_label": label(STATUS_LABELS, experiment.status),
        "kind_label": label(KIND_LABELS, experiment.kind),
        "actions": actions if writer else [],
        "edit_url": edit_url,
        "breaker": selectors.breaker_pause(experiment=experiment),
        "tab": tab,
        "tabs": [
            {"slug": slug, "label": tab_label, "url": tab_url(experiment, slug)}
            for slug, tab_label in TABS
        ],
    }
    if tab == "overview":
        context |= _overview(experiment)
    elif tab == "overrides":
        context |= _overrides(experiment, request)
    elif tab == "audit":
        context |= _audit(experiment)
    elif tab == "integrate":
        context |= _integrate(experiment, request)
    return context | extra


def experiment_page_render(
    request: HttpRequest,
    context: dict[str, Any],
    *,
    partials: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The full page, or for HTMX the partial its target names (``partials`` maps a target id
    to the template defining it); any other HTMX request gets the tab panel."""
    template = partial_template(request, TEMPLATE, default="tab-panel", partials=partials)
    return render(request, template, context, status=status)


@login_required
def experiment_detail_page(request: HttpRequest, key: str) -> HttpResponse:
    experiment = base_selectors.experiment_or_404(key)
    return experiment_page_render(request, experiment_page_context(request, experiment, "overview"))


@login_required
def experiment_tab_page(request: HttpRequest, key: str, tab: str) -> HttpResponse:
    if tab in TAB_URL_NAMES or tab not in {slug for slug, _label in TABS}:
        raise Http404(f'No tab "{tab}".')
    experiment = base_selectors.experiment_or_404(key)
    return experiment_page_render(request, experiment_page_context(request, experiment, tab))
