"""QA overrides from the experiment page: force a unit into a variant, or remove that."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from console.form_errors import add_service_errors
from core.actors import actor_from_request
from core.errors import ValidationFailed
from core.roles import can_write
from experiments.models import Override
from experiments.selectors import experiment_or_404
from experiments.services.overrides import override_delete, override_set

from .experiment_page import experiment_page_context, experiment_page_render
from .page_forms import OverrideForm

PARTIALS = {"overrides-section": "experiments/tabs/overrides.html"}


def _check_writer(request: HttpRequest) -> None:
    if not can_write(request.user):
        raise PermissionDenied(_("Viewers cannot change experiments."))


@login_required
@require_POST
def override_add(request: HttpRequest, key: str) -> HttpResponse:
    _check_writer(request)
    experiment = experiment_or_404(key)
    form = OverrideForm(request.POST, experiment=experiment)
    if form.is_valid():
        try:
            override_set(
                actor=actor_from_request(request),
                experiment=experiment,
                unit_id=form.cleaned_data["unit_id"],
                variant_key=form.cleaned_data["variant"],
                note=form.cleaned_data["note"],
            )
        except ValidationFailed as exc:
            add_service_errors(form, exc)
    if form.is_valid() and not form.errors:
        message = _("%(unit)s now always gets %(variant)s.") % {
            "unit": form.cleaned_data["unit_id"],
            "variant": form.cleaned_data["variant"],
        }
        if not request.htmx:
            messages.success(request, message)
            return redirect(reverse("web:experiment-tab", args=[key, "overrides"]))
        context = experiment_page_context(request, experiment, "overrides", notice=message)
        return experiment_page_render(request, context, partials=PARTIALS)
    context = experiment_page_context(request, experiment, "overrides", override_form=form)
    return experiment_page_render(request, context, partials=PARTIALS, status=400)


@login_required
@require_POST
def override_remove(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    _check_writer(request)
    experiment = experiment_or_404(key)
    override = get_object_or_404(
        Override.objects.select_related("variant"), pk=pk, experiment=experiment
    )
    unit_id = override.unit_id
    override_delete(actor=actor_from_request(request), experiment=experiment, override=override)
    message = _("The override of %(unit)s is removed.") % {"unit": unit_id}
    if not request.htmx:
        messages.success(request, message)
        return redirect(reverse("web:experiment-tab", args=[key, "overrides"]))
    context = experiment_page_context(request, experiment, "overrides", notice=message)
    return experiment_page_render(request, context, partials=PARTIALS)
