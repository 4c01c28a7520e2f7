"""What every control-plane ModelAdmin shares: saves and deletes call services, and a
service's refusal is shown on the form with nothing saved."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.db import models, transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse

from core.errors import ValidationFailed
from core.json_input import BoundedJSONFormField

SERVICE_ERRORS = "_verdict_service_errors"
# JSON boxes (targeting, payloads) take values nested at most MAX_JSON_DEPTH levels.
JSON_FORM_FIELDS: dict[Any, dict[str, Any]] = {
    models.JSONField: {"form_class": BoundedJSONFormField}
}


def describe(exc: ValidationFailed) -> str:
    """The service's messages as one line, each prefixed by the field it is about."""
    return " ".join(
        message if field == "non_field_errors" else f"{field}: {message}"
        for field, field_messages in exc.errors.items()
        for message in field_messages
    )


def copy_saved(target: Model, saved: Model) -> None:
    """Give the admin's unsaved instance the row the service wrote (pk, defaults, timestamps)."""
    for field in saved._meta.concrete_fields:
        setattr(target, field.attname, getattr(saved, field.attname))
    target._state.adding = False


def _with_service_errors(
    form_class: type[forms.ModelForm], errors: dict[str, list[str]]
) -> type[forms.ModelForm]:
    """A form class that shows a service's refusal next to its fields (or above the form)."""

    class RefusedForm(form_class):  # type: ignore[valid-type, misc]
        def clean(self) -> dict[str, Any]:
            cleaned = super().clean()
            for field, field_messages in errors.items():
                on_field = field in self.fields
                for message in field_messages:
                    if on_field:
                        self.add_error(field, message)
                    elif field == "non_field_errors":
                        self.add_error(None, message)
                    else:
                        self.add_error(None, f"{field}: {message}")
            return cleaned

    RefusedForm.__name__ = form_class.__name__
    return RefusedForm


@admin.action(permissions=["delete"], description="Delete selected %(verbose_name_plural)s")
def delete_selected(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> HttpResponse | None:
    """Django's confirmation page, then one service call per object; refusals are reported."""
    *_, perms_needed, protected = modeladmin.get_deleted_objects(queryset, request)
    if not request.POST.get("post") or perms_needed or protected:
        return django_delete_selected(modeladmin, request, queryset)
    deleted = []
    for obj in queryset:
        label = str(obj)
        try:
            with transaction.atomic():
                modeladmin.log_deletions(request, [obj])
                modeladmin.delete_model(request, obj)
        except ValidationFailed as exc:
            modeladmin.message_user(request, f"{label}: {describe(exc)}", messages.ERROR)
        else:
            deleted.append(label)
    if deleted:
        modeladmin.message_user(request, f"Deleted: {', '.join(deleted)}.", messages.SUCCESS)
    return None


class ServiceAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves and deletes call services.

    A service refusal (``ValidationFailed``) rolls the request's transaction back; the form is
    then shown again with the user's input and the service's messages as form errors.
    """

    actions = [delete_selected]
    formfield_overrides = JSON_FORM_FIELDS

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationFailed as exc:
            if request.method != "POST" or hasattr(request, SERVICE_ERRORS):
                raise
            setattr(request, SERVICE_ERRORS, exc.errors)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(
        self, request: HttpRequest, obj: Model | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        form_class = super().get_form(request, obj, change, **kwargs)
        errors = getattr(request, SERVICE_ERRORS, None)
        return _with_service_errors(form_class, errors) if errors else form_class

    def _fresh(self, obj: Model) -> Model:
        """The stored row (the admin's instance already carries the submitted values)."""
        return type(obj)._default_manager.get(pk=obj.pk)
