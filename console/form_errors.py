"""The services' and serializers' errors next to the fields of a page's form.

The rules are the services' own: a form shows their messages where they belong, and a message
for a key the form has no field for is shown for the whole form.
"""

from __future__ import annotations

from typing import Any

from django import forms

from core.errors import ValidationFailed

Errors = dict[str, list[str]]


def add_service_errors(form: forms.Form, error: ValidationFailed) -> None:
    """Show a service's ``{field: [messages]}`` next to the form's fields; a key the form has
    no field for (``status``, ``variants[1].weight``) becomes a message for the whole form."""
    for key, messages in error.errors.items():
        name = key.split("[", 1)[0].split(".", 1)[0]
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, str(message))


def flatten(detail: Any, prefix: str = "") -> Errors:
    """DRF's nested serializer errors as ``{"variants[1].weight": [...], ...}``."""
    out: Errors = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for k, v in flatten(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list) and detail and all(isinstance(d, dict) for d in detail):
        for i, value in enumerate(detail):
            for k, v in flatten(value, f"{prefix}[{i}]").items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        out[prefix or "non_field_errors"] = [str(d) for d in detail]
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out
