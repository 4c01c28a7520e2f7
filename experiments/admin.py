"""The Django admin for the control plane: every write goes through the same services as the API.

Saving a form calls the service (create, update, delete); a refusal re-shows the form with the
service's messages and saves nothing. Lifecycle changes are admin actions; conclude has its own
page whose winner choices are the experiment's variants. Status, salt, phase, decision and
winner are never edited directly.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.actors import actor_from_request
from core.api_keys import api_key_create, api_key_revoke
from core.errors import ValidationFailed
from core.models import ApiKey
from experiments.models import (
    AuditLogEntry,
    Decision,
    Experiment,
    ExperimentMetric,
    ExperimentStatus,
    Layer,
    Metric,
    Override,
    Phase,
    Variant,
)
from experiments.services.experiments import (
    PLAN_FIELDS,
    experiment_create,
    experiment_delete,
    experiment_update,
)
from experiments.services.layers import layer_create, layer_delete, layer_update
from experiments.services.lifecycle import allowed_actions, experiment_transition
from experiments.services.metrics import FIELDS as METRIC_FIELDS
from experiments.services.metrics import metric_create, metric_delete, metric_update
from experiments.services.overrides import override_delete, override_set
from experiments.targeting import validate_condition

ALWAYS_READ_ONLY = [
    "status",
    "salt",
    "phase",
    "owner",
    "allowed_now",
    "started_at",
    "stopped_at",
    "layer_start",
    "layer_end",
    "decision",
    "winner",
    "conclusion_review",
    "concluded_at",
]
LOCKED_AFTER_START = ["key", "unit_attribute", "layer", "layer_share", "coverage"]
SERVICE_ERRORS = "_verdict_service_errors"


def describe(exc: ValidationFailed) -> str:
    """The service's messages as one line, each prefixed by the field it is about."""
    return " ".join(
        message if field == "non_field_errors" else f"{field}: {message}"
        for field, field_messages in exc.errors.items()
        for message in field_messages
    )


def _copy_saved(target: Model, saved: Model) -> None:
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


# Experiments -------------------------------------------------------------------------------


class ExperimentAdminForm(forms.ModelForm):
    class Meta:
        model = Experiment
        fields = "__all__"  # noqa: DJ007 (the ModelAdmin chooses the fields)

    def clean_targeting(self) -> object:
        targeting = self.cleaned_data.get("targeting")
        if not isinstance(targeting, dict):
            raise forms.ValidationError("Targeting must be a JSON object.")
        errors = validate_condition(targeting)
        if errors:
            raise forms.ValidationError(errors)
        return targeting


class ConcludeForm(forms.Form):
    decision = forms.ChoiceField(choices=Decision.choices)
    winner = forms.ModelChoiceField(
        queryset=Variant.objects.none(),
        required=False,
        help_text="Only for a ship decision: the variant to ship.",
    )
    review = forms.CharField(widget=forms.Textarea, required=False, label="Review")

    def __init__(self, *args: Any, experiment: Experiment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["winner"].queryset = experiment.variants.all()


class StartedReadOnlyInline(admin.TabularInline):
    """Inlines that cannot change once the experiment has started (use the new-phase action)."""

    extra = 0

    def _started(self, obj: Experiment | None) -> bool:
        return obj is not None and obj.status != ExperimentStatus.DRAFT

    def has_add_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return not self._started(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return not self._started(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return not self._started(obj) and super().has_delete_permission(request, obj)


class VariantInline(StartedReadOnlyInline):
    model = Variant


class MetricLinkInline(StartedReadOnlyInline):
    model = ExperimentMetric


class PhaseInline(admin.TabularInline):
    """Phases are written by the lifecycle service only."""

    model = Phase
    extra = 0
    readonly_fields = ["number", "salt", "coverage", "weights", "reason", "started_at", "ended_at"]

    def has_add_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def has_delete_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False


def _kept_rows(formset: Any) -> list[dict[str, Any]]:
    """The cleaned rows of an inline formset, without deleted and untouched empty forms, in
    the order of their position field."""
    rows = []
    for index, form in enumerate(formset.forms):
        if form in formset.deleted_forms:
            continue
        if form.instance.pk is None and not form.has_changed():
            continue
        rows.append((form.cleaned_data.get("position") or 0, index, form.cleaned_data))
    return [cleaned for _, _, cleaned in sorted(rows, key=lambda row: row[:2])]


def experiment_data(form: forms.ModelForm, formsets: list[Any]) -> dict[str, Any]:
    """The service input (the API's shape) from the admin form and its editable inlines."""
    data: dict[str, Any] = {}
    plan: dict[str, Any] = {}
    for name in form.fields:
        value = form.cleaned_data.get(name)
        if name in PLAN_FIELDS:
            plan[name] = value
        elif name == "layer":
            data["layer"] = value.key if value else None
        else:
            data[name] = value
    if plan:
        data["analysis_plan"] = plan
    for formset in formsets:
        if formset.model is Variant:
            data["variants"] = [
                {
                    "key": row["key"],
                    "name": row.get("name") or row["key"],
                    "weight": row.get("weight"),
                    "is_control": bool(row.get("is_control")),
                    "payload": row.get("payload") or {},
                    "description": row.get("description") or "",
                }
                for row in _kept_rows(formset)
            ]
        elif formset.model is ExperimentMetric:
            data["metrics"] = [
                {"metric": row["metric"].key, "role": row["role"]} for row in _kept_rows(formset)
            ]
    return data


@admin.register(Experiment)
class ExperimentAdmin(ServiceAdmin):
    list_display = ["key", "name", "kind", "status", "phase", "coverage", "owner", "created_at"]
    list_filter = ["status", "kind", "layer"]
    search_fields = ["key", "name", "hypothesis"]
    inlines = [VariantInline, MetricLinkInline, PhaseInline]
    form = ExperimentAdminForm
    actions = [
        "start",
        "pause",
        "resume",
        "stop",
        "conclude",
        "archive",
        delete_selected,
    ]

    def get_readonly_fields(self, request, obj=None):  # noqa: ANN001, ANN201
        fields = list(ALWAYS_READ_ONLY)
        if obj is not None and obj.status != ExperimentStatus.DRAFT:
            fields += LOCKED_AFTER_START
        return fields

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        if obj is not None and obj.status == ExperimentStatus.ARCHIVED:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        if obj is not None and obj.status != ExperimentStatus.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description="Lifecycle actions allowed now")
    def allowed_now(self, obj: Experiment) -> str:
        if obj.pk is None:
            return "-"
        actions = allowed_actions(obj.status)
        if "conclude" not in actions:
            return ", ".join(actions) or "none"
        url = reverse("admin:experiments_experiment_conclude", args=[obj.pk])
        others = ", ".join(a for a in actions if a != "conclude")
        return format_html('<a href="{}">conclude</a>, {}', url, others)

    # Saving: one service call with the form and its inlines.

    def save_model(self, request, obj, form, change):  # noqa: ANN001, ANN201
        """Nothing here: ``save_related`` calls the service once the inlines are known."""

    def save_related(self, request, form, formsets, change):  # noqa: ANN001, ANN201
        editable = [f for f in formsets if f.model is not Phase and self._inline_editable(f)]
        data = experiment_data(form, editable)
        actor = actor_from_request(request)
        if change:
            saved = experiment_update(actor=actor, experiment=form.instance, data=data)
        else:
            saved = experiment_create(actor=actor, data=data)
        _copy_saved(form.instance, saved)
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def _inline_editable(self, formset: Any) -> bool:
        instance = formset.instance
        return instance.pk is None or instance.status == ExperimentStatus.DRAFT

    def delete_model(self, request, obj):  # noqa: ANN001, ANN201
        experiment_delete(actor=actor_from_request(request), experiment=obj)

    def delete_view(self, request, object_id, extra_context=None):  # noqa: ANN001, ANN201
        experiment = self.get_object(request, unquote(object_id))
        change_url = reverse("admin:experiments_experiment_change", args=[object_id])
        if experiment is not None and experiment.status != ExperimentStatus.DRAFT:
            self.message_user(
                request,
                f'"{experiment.key}" is {experiment.status}: only drafts can be deleted; '
                "archive a stopped or concluded experiment instead.",
                messages.ERROR,
            )
            return HttpResponseRedirect(change_url)
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationFailed as exc:
            self.message_user(request, describe(exc), messages.ERROR)
            return HttpResponseRedirect(change_url)

    # Lifecycle.

    def _transition(self, request: HttpRequest, queryset: QuerySet, action: str) -> None:
        actor = actor_from_request(request)
        done = []
        for experiment in queryset.order_by("key"):
            try:
                experiment_transition(actor=actor, experiment=experiment, action=action)
            except ValidationFailed as exc:
                self.message_user(request, f"{experiment.key}: {describe(exc)}", messages.ERROR)
            else:
                done.append(experiment.key)
        if done:
            self.message_user(request, f"{action.title()}: {', '.join(done)}.", messages.SUCCESS)

    @admin.action(permissions=["change"], description="Start selected experiments")
    def start(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._transition(request, queryset, "start")

    @admin.action(permissions=["change"], description="Pause selected experiments")
    def pause(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._transition(request, queryset, "pause")

    @admin.action(permissions=["change"], description="Resume selected experiments")
    def resume(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._transition(request, queryset, "resume")

    @admin.action(permissions=["change"], description="Stop selected experiments")
    def stop(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._transition(request, queryset, "stop")

    @admin.action(permissions=["change"], description="Archive selected experiments")
    def archive(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._transition(request, queryset, "archive")

    @admin.action(permissions=["change"], description="Conclude the selected experiment…")
    def conclude(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(
                request,
                "Select one experiment to conclude (each needs its own decision).",
                messages.ERROR,
            )
            return None
        url = reverse("admin:experiments_experiment_conclude", args=[queryset.get().pk])
        return HttpResponseRedirect(url)

    def get_urls(self) -> list[Any]:
        conclude = path(
            "<path:object_id>/conclude/",
            self.admin_site.admin_view(self.conclude_view),
            name="experiments_experiment_conclude",
        )
        return [conclude, *super().get_urls()]

    def conclude_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """A decision, a winner among this experiment's variants and a review, then the
        lifecycle service's conclude."""
        experiment = get_object_or_404(Experiment, pk=unquote(object_id))
        if not self.has_change_permission(request, experiment):
            raise PermissionDenied
        form = ConcludeForm(request.POST or None, experiment=experiment)
        if request.method == "POST" and form.is_valid():
            winner = form.cleaned_data["winner"]
            try:
                experiment_transition(
                    actor=actor_from_request(request),
                    experiment=experiment,
                    action="conclude",
                    params={
                        "decision": form.cleaned_data["decision"],
                        "winner": winner.key if winner else None,
                        "review": form.cleaned_data["review"],
                    },
                )
            except ValidationFailed as exc:
                for field, field_messages in exc.errors.items():
                    for message in field_messages:
                        form.add_error(field if field in form.fields else None, message)
            else:
                self.message_user(request, f"Concluded {experiment.key}.", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:experiments_experiment_change", args=[experiment.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Conclude {experiment.key}",
            "original": experiment,
            "form": form,
        }
        return TemplateResponse(request, "admin/experiments/experiment/conclude.html", context)


# Metrics, layers, overrides ----------------------------------------------------------------


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
        _copy_saved(obj, saved)

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
        _copy_saved(obj, saved)

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
        _copy_saved(obj, saved)

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


# API keys ----------------------------------------------------------------------------------


class ApiKeyAddForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "role"]


@admin.register(ApiKey)
class ApiKeyAdmin(ServiceAdmin):
    """Adding a key shows its secret once, in a message; keys are revoked, never edited."""

    list_display = ["name", "role", "prefix", "created_at", "revoked_at"]
    list_filter = ["role"]
    readonly_fields = ["name", "role", "prefix", "created_at", "revoked_at"]
    actions = ["revoke"]

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
        saved, raw = api_key_create(name=form.cleaned_data["name"], role=form.cleaned_data["role"])
        _copy_saved(obj, saved)
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
