"""Experiments in the admin: edits through the experiments service, lifecycle actions and the
conclude page through the lifecycle service, deletes for drafts only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext

from core.actors import actor_from_request
from core.errors import ValidationFailed
from experiments.models import (
    Decision,
    Experiment,
    ExperimentMetric,
    ExperimentStatus,
    Phase,
    Variant,
)
from experiments.services.experiments import (
    PLAN_FIELDS,
    experiment_create,
    experiment_delete,
    experiment_update,
)
from experiments.services.lifecycle import allowed_actions, experiment_transition
from experiments.targeting import validate_condition

from .base import JSON_FORM_FIELDS, ServiceAdmin, copy_saved, delete_selected, describe

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


class ExperimentAdminForm(forms.ModelForm):
    class Meta:
        model = Experiment
        fields = "__all__"  # noqa: DJ007 (the ModelAdmin chooses the fields)

    def clean_targeting(self) -> object:
        targeting = self.cleaned_data.get("targeting")
        if not isinstance(targeting, dict):
            raise forms.ValidationError(gettext("Targeting must be a JSON object."))
        errors = validate_condition(targeting)
        if errors:
            raise forms.ValidationError([problem.translated(gettext) for problem in errors])
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
    formfield_overrides = JSON_FORM_FIELDS

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
        copy_saved(form.instance, saved)
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
                result = experiment_transition(actor=actor, experiment=experiment, action=action)
            except ValidationFailed as exc:
                self.message_user(request, f"{experiment.key}: {describe(exc)}", messages.ERROR)
            else:
                done.append(experiment.key)
                for warning in getattr(result, "warnings", []):
                    self.message_user(request, f"{experiment.key}: {warning}", messages.WARNING)
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
