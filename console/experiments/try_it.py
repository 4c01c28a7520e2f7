"""Try it: a unit id and attributes give the answer ``POST /api/v1/assign`` would give with
``track: false`` (the same parser and assignment service; nothing is recorded)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assignment.definitions import definitions_get
from assignment.services.assign import assign_unit
from assignment.services.assign_input import assign_request_parse
from console.form_errors import add_service_errors
from console.labels import REASON_LABELS, label
from core.errors import ValidationFailed
from experiments.selectors import experiment_or_404

from .experiment_page import experiment_page_context, experiment_page_render

# The form and its answer swap together (``try-panel``): an answer never sits beside the
# fields of another unit, and a refused input clears the previous answer.
PARTIALS = {
    "try-panel": "experiments/tabs/try.html",
    "try-result": "experiments/tabs/try.html",
}


class TryItForm(forms.Form):
    unit_id = forms.CharField(label=gettext_lazy("Unit id"), strip=False)
    attributes = forms.CharField(
        label=gettext_lazy("Attributes (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy(
            'A flat JSON object, e.g. {"country": "CN", "app_version": "3.2.1"}'
        ),
    )

    def clean_attributes(self) -> Any:
        text = (self.cleaned_data.get("attributes") or "").strip()
        if not text:
            return {}
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("Not valid JSON: the error is at line %(line)s, column %(column)s.")
                % {"line": exc.lineno, "column": exc.colno}
            ) from exc


def _answer(key: str, form: TryItForm) -> dict[str, Any] | None:
    """The API's answer body, or None with the parser's errors added to the form."""
    body = {
        "unit_id": form.cleaned_data["unit_id"],
        "attributes": form.cleaned_data["attributes"],
        "experiments": [key],
        "track": False,
    }
    try:
        parsed = assign_request_parse(body)
    except ValidationFailed as exc:
        add_service_errors(form, exc)
        return None
    answers = assign_unit(definitions_get(), parsed.unit_id, parsed.attributes, parsed.keys)
    return {"unit_id": parsed.unit_id, "assignments": [a.as_dict() for a in answers]}


@login_required
def try_it_page(request: HttpRequest, key: str) -> HttpResponse:
    """GET without ``unit_id``: the empty form; with it: the form and the answer, or the
    form's errors with status 400 and no answer (HTMX swaps that answer in too)."""
    experiment = experiment_or_404(key)
    submitted = "unit_id" in request.GET
    form = TryItForm(request.GET if submitted else None)
    extra: dict[str, Any] = {"try_form": form, "try_answer": None}
    status = 200
    if submitted:
        answer = _answer(key, form) if form.is_valid() else None
        if answer is None:
            status = 400
        else:
            one = answer["assignments"][0]
            extra |= {
                "try_answer": one,
                "try_unit_id": answer["unit_id"],
                "try_reason_label": label(REASON_LABELS, one["reason"]),
                "try_payload": json.dumps(one["payload"], ensure_ascii=False, indent=2),
                "try_json": json.dumps(answer, ensure_ascii=False, indent=2),
            }
    context = experiment_page_context(request, experiment, "try", **extra)
    return experiment_page_render(request, context, partials=PARTIALS, status=status)
