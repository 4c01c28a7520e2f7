"""The data plane's URLs plus the bare view of ``bench.urls`` (the floor)."""

from django.urls import include, path

from bench.urls import bare

urlpatterns = [
    path("bench/bare", bare),
    path("", include("config.runtime_urls")),
]
