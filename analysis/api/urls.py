"""Result endpoints (filled in by the analysis pipeline)."""

urlpatterns: list = []
