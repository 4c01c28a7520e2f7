"""Lifecycle actions from the experiment page: a confirmation that says what will happen, then
the lifecycle service. Reachable by link without JavaScript; HTMX loads the confirmation inline.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from console.form_errors import add_service_errors
from console.labels import ACTION_LABELS, STATUS_LABELS, label
from core.actors import actor_from_request
from core.errors import ValidationFailed
from core.roles import can_write
from experiments.models import Experiment
from experiments.selectors import experiment_or_404
from experiments.services.lifecycle import (
    TRANSITIONS,
    allowed_actions,
    experiment_new_phase,
    experiment_transition,
)

from .page_forms import ConcludeForm, NewPhaseForm, ReasonForm

TEMPLATE = "experiments/experiment_confirm.html"
ACTIONS = (*TRANSITIONS, "new-phase")


def _done_message(action: str) -> str:
    return {
        "start": _("The experiment is running: units are being assigned."),
        "pause": _("The experiment is paused: every unit gets the control."),
        "resume": _("The experiment runs again."),
        "stop": _("The experiment is stopped."),
        "conclude": _("The experiment is concluded."),
        "archive": _("The experiment is archived."),
        "new-phase": _("A new phase has begun: every unit is assigned afresh."),
    }[action]


def _form(
    action: str, experiment: Experiment, data: Any = None, decision: str | None = None
) -> forms.Form:
    if action == "new-phase":
        return NewPhaseForm(data, experiment=experiment)
    if action == "conclude":
        return ConcludeForm(data, experiment=experiment, decision=decision)
    return ReasonForm(data)


def _perform(request: HttpRequest, action: str, experiment: Experiment, form: Any) -> Experiment:
    actor = actor_from_request(request)
    if action == "new-phase":
        return experiment_new_phase(
            actor=actor,
            experiment=experiment,
            coverage=form.cleaned_data["coverage"],
            weights=form.weights(),
            reason=form.cleaned_data["reason"],
        )
    params = form.params() if action == "conclude" else {"reason": form.cleaned_data["reason"]}
    return experiment_transition(actor=actor, experiment=experiment, action=action, params=params)


def _render(
    request: HttpRequest, experiment: Experiment, action: str, form: forms.Form, status: int = 200
) -> HttpResponse:
    variants = list(experiment.variants.all())
    context = {
        "nav": "experiments",
        "experiment": experiment,
        "action": action,
        "action_label": label(ACTION_LABELS, action),
        "status_label": label(STATUS_LABELS, experiment.status),
        "allowed": action in allowed_actions(experiment.status),
        "form": form,
        "control": next((v for v in variants if v.is_control), None),
        "winner_name": experiment.winner.name if experiment.winner_id else "",
        "mde_percent": experiment.mde * 100 if experiment.mde is not None else None,
        "coverage_percent": experiment.coverage * 100,
        "layer_share_percent": experiment.layer_share * 100,
        "action_url": reverse("web:experiment-action", args=[experiment.key, action]),
        "detail_url": reverse("web:experiment-detail", args=[experiment.key]),
        "readout_url": reverse("web:experiment-readout", args=[experiment.key]),
    }
    template = TEMPLATE
    if request.htmx:
        # The conclude dialog's winner field alone, as the decision changes.
        part = "winner-field" if request.GET.get("part") == "winner" else "confirm-panel"
        template += f"#{part}"
    return render(request, template, context, status=status)


@login_required
def experiment_action_page(request: HttpRequest, key: str, action: str) -> HttpResponse:
    """GET: the confirmation; POST: do it (editors and admins only, 403 for viewers)."""
    if action not in ACTIONS:
        raise Http404(f'No action "{action}".')
    if not can_write(request.user):
        raise PermissionDenied(_("Viewers cannot change experiments."))
    experiment = experiment_or_404(key)
    if request.method != "POST":
        form = _form(action, experiment, decision=request.GET.get("decision"))
        return _render(request, experiment, action, form)
    form = _form(action, experiment, request.POST)
    if form.is_valid():
        try:
            done = _perform(request, action, experiment, form)
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _done_message(action))
            for warning in done.warnings:
                messages.warning(request, warning)
            # A concluded experiment's next stop is its readout (复盘), where the learnings
            # just written sit beside the expected and the measured effects.
            page = "web:experiment-readout" if action == "conclude" else "web:experiment-detail"
            url = reverse(page, args=[experiment.key])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    experiment = experiment_or_404(key)
    return _render(request, experiment, action, form, status=400)
