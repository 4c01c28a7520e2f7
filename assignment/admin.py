"""Exposures and events are data the apps reported, not configuration: the admin only reads them."""

from django.contrib import admin

from assignment.models import Event, Exposure


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):  # noqa: ANN001, ANN201
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def has_delete_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False


@admin.register(Exposure)
class ExposureAdmin(ReadOnlyAdmin):
    list_display = ["experiment", "phase", "unit_id", "variant", "forced", "first_exposed_at"]
    list_filter = ["experiment", "forced", "multiple_variants"]
    search_fields = ["unit_id"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["event", "unit_id", "value", "timestamp", "received_at"]
    list_filter = ["event"]
    search_fields = ["unit_id", "event_id"]
