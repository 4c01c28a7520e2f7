"""Metrics, layers, QA overrides and API keys in the admin (through their services), and the
read-only audit log."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from core.actors import actor_from_request
from core.api_keys import api_key_create, api_key_revoke
from core.models import ApiKey
from experiments.models import (
    AuditLogEntry,
    Layer,
    Metric,
    Override,
)
from experiments.services.layers import layer_create, layer_delete, layer_update
from experiments.services.metrics import FIELDS as METRIC_FIELDS
from experiments.services.metrics import metric_create, metric_delete, metric_update
from experiments.services.overrides import override_delete, override_set

from .base import ServiceAdmin, copy_saved


@admin.register(Metric)
class MetricAdmin(ServiceAdmin):
    list_display = ["key", "name", "type", "event", "window_hours", "higher_is_better"]
    list_filter = ["type"]
    search_fields = ["key", "name", "event"]

    def get_readonly_fields(self, request, obj=None):  # noqa: ANN001, ANN201
        return ["key"] if obj is not None else []

    def save_model(self, request, obj, form, change):  # noqa: ANN001, ANN201
        data = {name: form.cleaned_data.get(name) for name in form.fields if name in METRIC_FIELDS}
        actor = actor_from_request(request)
        if change:
            saved = metric_update(actor=actor, metric=self._fresh(obj), data=data)
        else:
            saved = metric_create(actor=actor, data={"key": form.cleaned_data["key"], **data})
        copy_saved(obj, saved)

    def delete_model(self, request, obj):  # noqa: ANN001, ANN201
        metric_delete(actor=actor_from_request(request), metric=obj)


@admin.register(Layer)
class LayerAdmin(ServiceAdmin):
    list_display = ["key", "name"]

    def get_readonly_fields(self, request, obj=None):  # noqa: ANN001, ANN201
        return ["key"] if obj is not None else []

    def save_model(self, request, obj, form, change):  # noqa: ANN001, ANN201
        actor = actor_from_request(request)
        name, description = form.cleaned_data["name"], form.cleaned_data.get("description", "")
        if change:
            saved = layer_update(
                actor=actor, layer=self._fresh(obj), name=name, description=description
            )
        else:
            saved = layer_create(
                actor=actor, key=form.cleaned_data["key"], name=name, description=description
            )
        copy_saved(obj, saved)

    def delete_model(self, request, obj):  # noqa: ANN001, ANN201
        layer_delete(actor=actor_from_request(request), layer=obj)


class OverrideAdminForm(forms.ModelForm):
    class Meta:
        model = Override
        fields = ["experiment", "unit_id", "variant", "note"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        experiment = cleaned.get("experiment") or getattr(self.instance, "experiment", None)
        variant = cleaned.get("variant")
        if (
            experiment is not None
            and variant is not None
            and variant.experiment_id != experiment.pk
        ):
            self.add_error("variant", f'Choose a variant of experiment "{experiment.key}".')
        return cleaned


@admin.register(Override)
class OverrideAdmin(ServiceAdmin):
    list_display = ["experiment", "unit_id", "variant", "note", "created_at"]
    list_filter = ["experiment"]
    search_fields = ["unit_id"]
    form = OverrideAdminForm

    def get_readonly_fields(self, request, obj=None):  # noqa: ANN001, ANN201
        return ["experiment", "unit_id"] if obj is not None else []

    def save_model(self, request, obj, form, change):  # noqa: ANN001, ANN201
        experiment = obj.experiment
        saved, _ = override_set(
            actor=actor_from_request(request),
            experiment=experiment,
            unit_id=obj.unit_id,
            variant_key=form.cleaned_data["variant"].key,
            note=form.cleaned_data.get("note", ""),
        )
        copy_saved(obj, saved)

    def delete_model(self, request, obj):  # noqa: ANN001, ANN201
        override_delete(actor=actor_from_request(request), experiment=obj.experiment, override=obj)


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "action", "object_type", "object_key", "message"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_key", "actor_label", "message"]

    def has_add_permission(self, request):  # noqa: ANN001, ANN201
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def has_delete_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False


class ApiKeyAddForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "role"]


@admin.register(ApiKey)
class ApiKeyAdmin(ServiceAdmin):
    """Adding a key shows its secret once, in a message; keys are revoked, never edited."""

    list_display = ["name", "role", "prefix", "creator", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["role"]
    list_select_related = ["created_by"]
    readonly_fields = [
        "name",
        "role",
        "prefix",
        "creator",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    actions = ["revoke"]

    @admin.display(description=gettext_lazy("Creator"), ordering="created_by__username")
    def creator(self, obj: ApiKey) -> str:
        """Who made the key; keys made by ``manage.py create_api_key`` have none."""
        if obj.created_by_id:
            return obj.created_by.get_username()
        return str(gettext_lazy("command line"))

    def get_form(self, request, obj=None, change=False, **kwargs):  # noqa: ANN001, ANN003, ANN201
        if obj is None:
            kwargs["form"] = ApiKeyAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):  # noqa: ANN001, ANN201
        return ["name", "role"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):  # noqa: ANN001, ANN201
        return [] if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def has_delete_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def save_model(self, request, obj, form, change):  # noqa: ANN001, ANN201
        saved, raw = api_key_create(
            name=form.cleaned_data["name"], role=form.cleaned_data["role"], created_by=request.user
        )
        copy_saved(obj, saved)
        self.message_user(
            request,
            f'The secret of "{saved.name}" is {raw} . Copy it now: only its hash is stored and '
            "it is not shown again. Send it as: Authorization: Bearer <secret>.",
            messages.WARNING,
        )

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    @admin.action(permissions=["revoke"], description="Revoke selected API keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        names = [api_key_revoke(key=key).name for key in queryset]
        self.message_user(request, f"Revoked: {', '.join(names)}.", messages.SUCCESS)
