"""QA overrides from the experiment page: force units into a variant (one unit id per line of
the form), or remove an override."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from console.form_errors import add_service_errors
from core.actors import actor_from_request
from core.errors import ValidationFailed
from core.roles import can_write
from experiments.models import Override
from experiments.selectors import experiment_or_404
from experiments.services.overrides import override_delete, override_set_lines

from .experiment_page import experiment_page_context, experiment_page_render
from .page_forms import OverrideForm

PARTIALS = {"overrides-section": "experiments/tabs/overrides.html"}


def _check_writer(request: HttpRequest) -> None:
    if not can_write(request.user):
        raise PermissionDenied(_("Viewers cannot change experiments."))


def _added_message(saved: list[tuple[Override, bool]], variant: str) -> str:
    if len(saved) == 1:
        return _("%(unit)s now always gets %(variant)s.") % {
            "unit": saved[0][0].unit_id,
            "variant": variant,
        }
    return ngettext(
        "%(count)s unit now always gets %(variant)s.",
        "%(count)s units now always get %(variant)s.",
        len(saved),
    ) % {"count": len(saved), "variant": variant}


@login_required
@require_POST
def override_add(request: HttpRequest, key: str) -> HttpResponse:
    """Force the unit ids of the form (one per line) into a variant: all of them, or none with
    the offending lines named next to the field (status 400, which the section swaps in)."""
    _check_writer(request)
    experiment = experiment_or_404(key)
    form = OverrideForm(request.POST, experiment=experiment)
    saved: list[tuple[Override, bool]] = []
    if form.is_valid():
        try:
            saved = override_set_lines(
                actor=actor_from_request(request),
                experiment=experiment,
                text=form.cleaned_data["unit_id"],
                variant_key=form.cleaned_data["variant"],
                note=form.cleaned_data["note"],
            )
        except ValidationFailed as exc:
            add_service_errors(form, exc)
    if saved:
        message = _added_message(saved, form.cleaned_data["variant"])
        if not request.htmx:
            messages.success(request, message)
            return redirect(reverse("web:experiment-tab", args=[key, "overrides"]))
        # The next list most likely goes to the same variant: keep it chosen.
        fresh = OverrideForm(
            experiment=experiment, initial={"variant": form.cleaned_data["variant"]}
        )
        context = experiment_page_context(
            request, experiment, "overrides", notice=message, override_form=fresh
        )
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
