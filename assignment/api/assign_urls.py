"""Runtime assignment endpoints (filled in by the assignment API)."""

urlpatterns: list = []
