"""Duplicate an experiment as a new draft, from the experiment page: a short form (the copy's
key and name, both suggested) and then ``experiment_duplicate``. Reachable by link without
JavaScript; HTMX opens the form in the page's action panel.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_htmx.http import HttpResponseClientRedirect

from console.form_errors import add_service_errors
from core.actors import actor_from_request
from core.errors import ValidationFailed
from core.roles import can_write
from experiments.models import Experiment
from experiments.selectors import experiment_or_404
from experiments.services.duplicate import (
    duplicate_key_suggest,
    duplicate_name_suggest,
    experiment_duplicate,
)

TEMPLATE = "experiments/experiment_duplicate.html"


class DuplicateForm(forms.Form):
    """The copy's key and name; the service checks them (free, a slug, within the lengths)."""

    name = forms.CharField(label=gettext_lazy("Name of the copy"), required=False)
    key = forms.CharField(
        label=gettext_lazy("Key of the copy"),
        required=False,
        help_text=gettext_lazy(
            "Letters, digits and dashes; apps ask for the experiment by this key."
        ),
    )


def _render(
    request: HttpRequest, experiment: Experiment, form: DuplicateForm, status: int = 200
) -> HttpResponse:
    context = {
        "nav": "experiments",
        "experiment": experiment,
        "form": form,
        "action_url": reverse("web:experiment-duplicate", args=[experiment.key]),
        "detail_url": reverse("web:experiment-detail", args=[experiment.key]),
        "variants": list(experiment.variants.all()),
        "metric_count": experiment.metric_links.count(),
    }
    template = TEMPLATE + "#duplicate-panel" if request.htmx else TEMPLATE
    return render(request, template, context, status=status)


@login_required
def experiment_duplicate_page(request: HttpRequest, key: str) -> HttpResponse:
    """GET: the form with a suggested key and name; POST: make the copy and open it (editors
    and admins only, 403 for viewers)."""
    if not can_write(request.user):
        raise PermissionDenied(_("Viewers cannot create or change experiments."))
    experiment = experiment_or_404(key)
    if request.method != "POST":
        initial = {
            "key": duplicate_key_suggest(experiment.key),
            "name": duplicate_name_suggest(experiment.name),
        }
        return _render(request, experiment, DuplicateForm(initial=initial))
    form = DuplicateForm(request.POST)
    if form.is_valid():
        try:
            copy = experiment_duplicate(
                actor=actor_from_request(request),
                experiment=experiment,
                key=form.cleaned_data["key"].strip() or None,
                name=form.cleaned_data["name"] or None,
            )
        except ValidationFailed as failed:
            add_service_errors(form, failed)
        else:
            messages.success(
                request,
                _("Duplicated from “%(name)s”: this is a new draft. Check it, then start it.")
                % {"name": experiment.name},
            )
            url = reverse("web:experiment-detail", args=[copy.key])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    # HTMX swaps only 2xx answers: the form with its errors comes back as 200 there.
    return _render(request, experiment, form, status=200 if request.htmx else 400)
