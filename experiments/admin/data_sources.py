"""Data sources in the admin, for admins only, through the data-source services.

Options (Spark settings that may hold credentials) are write-only here too: the form has a
password-style input that is always empty, the stored values are never rendered, and only the
option names are shown. A refusal is shown next to the field it is about: an option's (named,
never with its value) next to the options input.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.actors import actor_from_request
from core.errors import ValidationFailed
from core.json_input import json_loads
from core.roles import is_admin
from experiments.models import DataSource
from experiments.services.data_sources import (
    data_source_create,
    data_source_delete,
    data_source_update,
    session_url_masked,
)

from .base import ServiceAdmin, copy_saved

FORM_FIELDS = (
    "name",
    "kind",
    "session_url",
    "exposures",
    "events",
    "exposure_columns",
    "event_columns",
    "segments",
)


class DataSourceAdminForm(forms.ModelForm):
    new_options = forms.CharField(
        label=_("Options"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            'A JSON object of Spark settings, e.g. {"spark.hadoop.fs.s3a.secret.key": "..."}. '
            "Stored values are never shown; leave this empty to keep them, or enter the full "
            "set to replace them."
        ),
    )
    clear_options = forms.BooleanField(label=_("Remove every option"), required=False)

    class Meta:
        model = DataSource
        fields = ["key", *FORM_FIELDS]

    def clean_new_options(self) -> dict[str, Any] | None:
        raw = self.cleaned_data.get("new_options")
        if not raw:
            return None
        try:
            value = json_loads(raw)  # JsonTooDeep is a ValueError: the same message
        except ValueError:
            # Never echo the input: it may hold credentials.
            raise forms.ValidationError(
                gettext('Not valid JSON. Enter an object like {"spark.executor.memory": "4g"}.')
            ) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(
                gettext('Enter a JSON object like {"spark.executor.memory": "4g"}.')
            )
        return value


def _on_form_fields(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """The service's errors keyed by the form's fields: ``options.<name>`` on the options
    input (with the option's name), ``exposure_columns.<column>`` on its map."""
    out: dict[str, list[str]] = {}
    for field, messages in errors.items():
        head, _, rest = field.partition(".")
        if head == "options":
            target = "new_options"
            messages = [f"{rest}: {m}" if rest else m for m in messages]
        elif head in {"exposure_columns", "event_columns"} and rest:
            target = head
            messages = [f"{rest}: {m}" for m in messages]
        else:
            target = field
        out.setdefault(target, []).extend(messages)
    return out


@admin.register(DataSource)
class DataSourceAdmin(ServiceAdmin):
    form = DataSourceAdminForm
    list_display = ["key", "name", "kind", "masked_session_url", "option_names"]
    list_filter = ["kind"]
    search_fields = ["key", "name"]

    @admin.display(description=_("Session URL"))
    def masked_session_url(self, obj: DataSource) -> str:
        return session_url_masked(obj.session_url)

    @admin.display(description=_("Option names"))
    def option_names(self, obj: DataSource) -> str:
        return ", ".join(sorted(obj.options or {})) or "-"

    def get_fields(self, request, obj=None):  # noqa: ANN001, ANN201
        fields = ["key", *FORM_FIELDS, "new_options", "clear_options"]
        if obj is not None:
            fields.insert(fields.index("new_options"), "option_names")
        return fields

    def get_readonly_fields(self, request, obj=None):  # noqa: ANN001, ANN201
        return ["key", "option_names"] if obj is not None else []

    def _admin_only(self, request: HttpRequest) -> bool:
        return is_admin(request.user)

    def has_module_permission(self, request):  # noqa: ANN001, ANN201
        return self._admin_only(request)

    def has_view_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return self._admin_only(request)

    def has_add_permission(self, request):  # noqa: ANN001, ANN201
        return self._admin_only(request)

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return self._admin_only(request)

    def has_delete_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return self._admin_only(request)

    def save_model(self, request, obj, form, change):  # noqa: ANN001, ANN201
        try:
            self._save(request, obj, form, change)
        except ValidationFailed as exc:
            raise ValidationFailed(_on_form_fields(exc.errors)) from None

    def _save(self, request, obj, form, change):  # noqa: ANN001, ANN202
        data: dict[str, Any] = {name: form.cleaned_data.get(name) for name in FORM_FIELDS}
        new_options = form.cleaned_data.get("new_options")
        actor = actor_from_request(request)
        if change:
            stored = self._fresh(obj)
            if form.cleaned_data.get("clear_options") or new_options is not None:
                # Replace the whole set: every stored name removed, the new ones written.
                data["options"] = {name: None for name in stored.options or {}} | (
                    new_options or {}
                )
            saved = data_source_update(actor=actor, source=stored, data=data)
        else:
            data["options"] = new_options or {}
            saved = data_source_create(actor=actor, data={"key": form.cleaned_data["key"], **data})
        copy_saved(obj, saved)

    def delete_model(self, request, obj):  # noqa: ANN001, ANN201
        data_source_delete(actor=actor_from_request(request), source=obj)
