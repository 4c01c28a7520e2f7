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


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0


class MetricLinkInline(admin.TabularInline):
    model = ExperimentMetric
    extra = 0


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
    readonly_fields = ["status", "phase", "started_at", "stopped_at", "layer_start", "layer_end"]


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
