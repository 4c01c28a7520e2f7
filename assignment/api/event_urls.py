"""Runtime event-ingestion endpoints."""

from django.urls import path

from .events import EventBatchApi

urlpatterns = [
    path("events", EventBatchApi.as_view(), name="events-ingest"),
]
