from django.contrib import admin

from assignment.models import Event, Exposure


@admin.register(Exposure)
class ExposureAdmin(admin.ModelAdmin):
    list_display = ["experiment", "phase", "unit_id", "variant", "forced", "first_exposed_at"]
    list_filter = ["experiment", "forced", "multiple_variants"]
    search_fields = ["unit_id"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["event", "unit_id", "value", "timestamp", "received_at"]
    list_filter = ["event"]
    search_fields = ["unit_id", "event_id"]
