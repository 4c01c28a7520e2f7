"""Bench-only URLs: the application's, plus a bare Django view as the framework's floor.

``POST /bench/bare?size=N`` answers a JSON body of exactly N bytes and does nothing else, through
the same middleware as the API, so comparing it with ``POST /api/v1/assign`` shows what the
assign work itself costs.
"""

from functools import lru_cache

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@lru_cache(maxsize=64)
def _body(size: int) -> bytes:
    prefix, suffix = b'{"pad":"', b'"}'
    return prefix + b"x" * max(size - len(prefix) - len(suffix), 0) + suffix


@csrf_exempt
def bare(request: HttpRequest) -> HttpResponse:
    size = int(request.GET.get("size", "200"))
    return HttpResponse(_body(min(size, 1_000_000)), content_type="application/json")


urlpatterns = [
    path("bench/bare", bare),
    path("", include("config.urls")),
]
