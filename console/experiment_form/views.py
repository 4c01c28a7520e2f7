"""The guided form that creates and edits experiments, in five steps on one page.

Every button posts the whole form, so it works without JavaScript: ``action=save`` saves a
draft (at any step), the others (add a variant row, build the targeting JSON, test a unit,
search metrics) re-render the form with nothing saved. With HTMX the same posts come back as
the one step's partial, and ``action=validate`` checks one step as the person fills it in.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from console.labels import OPERATOR_LABELS, choices
from console.library.layer_pages import layer_bars
from core.actors import actor_from_request
from core.errors import ValidationFailed
from core.json_input import JsonTooDeep, json_loads
from core.roles import can_write
from experiments.models import (
    AnalysisMethod,
    Correction,
    Experiment,
    ExperimentKind,
    ExperimentStatus,
    MetricRole,
)
from experiments.services.experiments import experiment_create, experiment_update
from experiments.targeting import validate_condition

from . import form_checks, forms, template_prefill
from .history_fields import HISTORY_FIELDS
from .targeting_builder import OPERATORS, Group, Row, explain, groups_from_condition

TEMPLATE = "experiments/experiment_form.html"
UNIT_ATTRIBUTES = (("user_id", gettext_lazy("User")), ("account_id", gettext_lazy("Account")))
SECTION_OF_ACTION = {
    "add-variant": "variants",
    "remove-variant": "variants",
    "add-row": "targeting",
    "remove-row": "targeting",
    "add-group": "targeting",
    "build-targeting": "targeting",
    "load-json": "targeting",
    "test-unit": "targeting",
    "search-metrics": "metrics",
}


def detail_url(key: str) -> str:
    """The experiment page."""
    return reverse("web:experiment-detail", kwargs={"key": key})


def new_phase_url(key: str) -> str:
    """Where a started experiment changes coverage or weights: the new-phase action."""
    return reverse("web:experiment-action", kwargs={"key": key, "action": "new-phase"})


def _require_writer(request: HttpRequest) -> None:
    if not can_write(request.user):
        raise PermissionDenied(_("Viewers cannot create or change experiments."))


@login_required
def experiment_create_page(request: HttpRequest) -> HttpResponse:
    _require_writer(request)
    return _form_page(request, None)


@login_required
def experiment_edit_page(request: HttpRequest, key: str) -> HttpResponse:
    _require_writer(request)
    experiment = (
        Experiment.objects.select_related("layer", "owner")
        .prefetch_related("variants", "metric_links__metric")
        .filter(key=key)
        .first()
    )
    if experiment is None:
        raise Http404(_("No experiment with this key."))
    if experiment.status == ExperimentStatus.ARCHIVED:
        messages.error(request, _("An archived experiment cannot be edited."))
        return redirect(detail_url(key))
    return _form_page(request, experiment)


def _form_page(request: HttpRequest, experiment: Experiment | None) -> HttpResponse:
    if request.method != "POST":
        if experiment is None:
            # A new experiment may start from a template (``?template=pricing``).
            state, choice = template_prefill.state_from_template(request.GET.get("template"))
            state.values["owner"] = request.user.get_username()
            return _render(request, experiment, state, extra=choice)
        return _render(request, experiment, forms.state_from_experiment(experiment))
    state = forms.state_from_post(request.POST)
    action = request.POST.get("action", "save")
    if experiment is None:
        forms.derive_key(state)
    if action == "save":
        saved = _save(request, experiment, state)
        if saved is not None:
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = detail_url(saved.key)
                return response
            return redirect(detail_url(saved.key))
        return _render(request, experiment, state, extra={"save_failed": True})
    if action == "validate":
        return _validate_step(request, experiment, state)
    section = _apply_action(action, state, request.POST)
    return _render(request, experiment, state, section=section)


STEP_FIELDS = {
    "basics": ("name", "key", "kind", "owner", "hypothesis", "expected_effect"),
    "variants": ("variants",),
    "targeting": ("targeting", "coverage", "unit_attribute", "layer", "layer_share"),
    "metrics": ("metrics",),
    "plan": ("method", "correction", "alpha", "mde", "scheduled_start_at", "scheduled_stop_at",
             "planned_sample_size", "planned_duration_days", *HISTORY_FIELDS),
}  # fmt: skip


def _validate_step(
    request: HttpRequest, experiment: Experiment | None, state: forms.FormState
) -> HttpResponse:
    """One step checked as it is filled in: with HTMX only the error lists (and the shares,
    the derived key, the layer bar) are swapped, so nothing the person is typing is replaced."""
    step = request.POST.get("step", "basics")
    step = step if step in forms.STEPS else "basics"
    _, errors = form_checks.validated(state, experiment)
    state.set_errors({k: v for k, v in errors.items() if forms.step_of(k) == step})
    if not request.htmx or step == "metrics":
        return _render(request, experiment, state, section=step)
    oob = [(name, state.errors.get(name, [])) for name in STEP_FIELDS[step]]
    if step == "variants":
        oob += [
            (f"variants-{i}-{name}", row.errors.get(name, []))
            for i, row in enumerate(state.variants)
            for name in ("key", "name", "weight", "payload")
        ]
    extra = {
        "oob_errors": oob,
        "validated_step": step,
        "derived_key": experiment is None and not request.POST.get("key", "").strip(),
    }
    return _render(request, experiment, state, section="validation", extra=extra)


def _save(request: HttpRequest, experiment: Experiment | None, state: forms.FormState) -> Any:
    data, errors = form_checks.validated(state, experiment)
    if data is None:
        state.set_errors(errors)
        return None
    actor = actor_from_request(request)
    try:
        if experiment is None:
            saved = experiment_create(actor=actor, data=data)
        else:
            saved = experiment_update(actor=actor, experiment=experiment, data=data)
    except ValidationFailed as failed:
        state.set_errors(failed.errors)
        return None
    messages.success(request, _("Experiment saved."))
    return saved


def _apply_action(action: str, state: forms.FormState, post: Any) -> str:
    """Change the form as a row button asks; returns the step to re-render."""
    name, _sep, arg = action.partition(":")
    numbers = [int(n) for n in re.findall(r"\d+", arg)]
    if name == "add-variant":
        state.variants.append(forms.VariantRow(key=f"variant-{len(state.variants)}", weight="1"))
    elif name == "remove-variant" and numbers and numbers[0] < len(state.variants):
        state.variants.pop(numbers[0])
    elif name == "add-row" and numbers and numbers[0] < len(state.groups):
        state.groups[numbers[0]].rows.append(Row())
    elif name == "remove-row" and len(numbers) == 2 and numbers[0] < len(state.groups):
        rows = state.groups[numbers[0]].rows
        if numbers[1] < len(rows):
            rows.pop(numbers[1])
        if not rows:
            state.groups.pop(numbers[0])
    elif name == "add-group":
        state.groups.append(Group())
    elif name == "build-targeting":
        forms.apply_builder(state)
    elif name == "load-json":
        problem = _("The builder cannot show this condition; edit the JSON directly.")
        try:
            groups = groups_from_condition(json_loads(state.values.get("targeting") or "{}"))
        except JsonTooDeep as exc:
            groups, problem = None, str(exc)
        except ValueError:
            groups = None
        if groups is None:
            state.errors["targeting"] = [problem]
        else:
            state.groups = groups
    state.update_shares()
    return SECTION_OF_ACTION.get(name, "basics")


def _unit_test(state: forms.FormState, action: str) -> dict[str, Any] | None:
    """The "would this unit be targeted?" answer, when asked."""
    if action != "test-unit":
        return None
    try:
        attributes = json_loads(state.values.get("test_attributes") or "{}")
        condition = json_loads(state.values.get("targeting") or "{}")
    except JsonTooDeep as exc:
        return {"error": str(exc)}
    except ValueError as exc:
        return {"error": _("Not valid JSON: %(error)s.") % {"error": exc}}
    if not isinstance(attributes, dict):
        return {"error": _('Attributes are a JSON object, e.g. {"country": "CN"}.')}
    if not isinstance(condition, dict) or validate_condition(condition):
        return {"error": _("Fix the targeting condition first.")}
    return {"verdict": explain(attributes, condition)}


def _render(
    request: HttpRequest,
    experiment: Experiment | None,
    state: forms.FormState,
    section: str | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    started = experiment is not None and experiment.status != ExperimentStatus.DRAFT
    action = request.POST.get("action", "") if request.method == "POST" else ""
    selected_layer = state.values.get("layer", "")
    bars = layer_bars(experiment=experiment)
    form_url = (
        reverse("web:experiment-edit", kwargs={"key": experiment.key})
        if experiment
        else reverse("web:experiment-create")
    )
    context = {
        "nav": "experiments",
        "experiment": experiment,
        "started": started,
        "state": state,
        "v": state.values,
        "form_url": form_url,
        "step_errors": state.step_errors(),
        "kinds": ExperimentKind.choices,
        "owners": _owners(state),
        "methods": AnalysisMethod.choices,
        "corrections": Correction.choices,
        "unit_attributes": _unit_attributes(state),
        "operators": choices(OPERATOR_LABELS, OPERATORS),
        "layer_bars": bars,
        "selected_bar": next((b for b in bars if b["layer"].key == selected_layer), None),
        "metrics": form_checks.metric_choices(state, state.values.get("metric_query", "")),
        "roles": MetricRole.choices,
        "unit_test": _unit_test(state, action),
        "builder_ok": bool(state.groups),
        "detail_url": detail_url(experiment.key) if experiment else "",
        "new_phase_url": new_phase_url(experiment.key) if experiment else "",
    }
    context.update(extra or {})
    template = TEMPLATE
    if request.htmx and section:
        template += f"#step-{section}"
    return render(request, template, context)


def _owners(state: forms.FormState) -> list[str]:
    """Usernames an experiment can belong to (active users), with the current choice even if
    that user no longer is, so the form never changes the owner silently."""
    names = list(
        get_user_model()
        .objects.filter(is_active=True)
        .order_by("username")
        .values_list("username", flat=True)
    )
    current = state.values.get("owner")
    if current and current not in names:
        names.insert(0, current)
    return names


def _unit_attributes(state: forms.FormState) -> list[tuple[str, str]]:
    choices = [(value, str(label)) for value, label in UNIT_ATTRIBUTES]
    current = state.values.get("unit_attribute")
    if current and current not in dict(choices):
        choices.append((current, current))
    return choices
