"""Web pages (filled in as the pages are built)."""

urlpatterns: list = []
