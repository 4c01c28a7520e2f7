"""Web page URLs, in the ``web`` namespace; each group of pages keeps its own URL module."""

from django.urls import include, path

app_name = "web"

urlpatterns = [
    path("", include("experiments.web.experiment_urls")),
    path("", include("experiments.web.form_urls")),
    path("", include("experiments.web.library_urls")),
]
