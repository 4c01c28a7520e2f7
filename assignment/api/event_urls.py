"""Runtime event-ingestion endpoints (filled in by the events API)."""

urlpatterns: list = []
