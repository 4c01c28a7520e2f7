from django import forms
from django.contrib import admin

from experiments.models import (
    ApiKey,
    AuditLogEntry,
    Experiment,
    ExperimentMetric,
    Layer,
    Metric,
    Override,
    Phase,
    Variant,
)
from experiments.targeting import validate_condition

LOCKED_AFTER_START = ["key", "salt", "unit_attribute", "layer", "layer_share", "coverage"]


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


class StartedReadOnlyInline(admin.TabularInline):
    """Inlines that cannot change once the experiment has started (use the new-phase action)."""

    extra = 0

    def _started(self, obj: Experiment | None) -> bool:
        return obj is not None and obj.status != "draft"

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
    model = Phase
    extra = 0
    readonly_fields = ["number", "salt", "coverage", "weights", "reason", "started_at", "ended_at"]
    can_delete = False


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "kind", "status", "phase", "coverage", "owner", "created_at"]
    list_filter = ["status", "kind", "layer"]
    search_fields = ["key", "name", "hypothesis"]
    inlines = [VariantInline, MetricLinkInline, PhaseInline]
    form = ExperimentAdminForm
    readonly_fields = ["status", "phase", "started_at", "stopped_at", "layer_start", "layer_end"]

    def get_readonly_fields(self, request, obj=None):  # noqa: ANN001, ANN201
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status != "draft":
            fields += LOCKED_AFTER_START
        return fields


@admin.register(Metric)
class MetricAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "type", "event", "window_hours", "higher_is_better"]
    list_filter = ["type"]
    search_fields = ["key", "name", "event"]


@admin.register(Layer)
class LayerAdmin(admin.ModelAdmin):
    list_display = ["key", "name"]


@admin.register(Override)
class OverrideAdmin(admin.ModelAdmin):
    list_display = ["experiment", "unit_id", "variant", "note", "created_at"]
    list_filter = ["experiment"]
    search_fields = ["unit_id"]


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "action", "object_type", "object_key", "message"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_key", "actor_label", "message"]

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def has_delete_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "role", "prefix", "created_at", "revoked_at"]
    readonly_fields = ["prefix", "key_hash", "created_at"]
