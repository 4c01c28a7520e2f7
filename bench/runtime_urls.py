"""The data plane's URLs plus the bare views of the floor.

``/bench/bare`` is ``bench.urls``'s bare view (it answers without reading the request body);
``/bench/bare-read`` is the same view that first reads the body, as every endpoint taking a
JSON body must (``bench/runtime.py`` shows it beside the floor, for reference).
"""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from bench.urls import bare


@csrf_exempt
def bare_read(request: HttpRequest) -> HttpResponse:
    request.body  # noqa: B018 - read, as a view taking a JSON body does
    return bare(request)


urlpatterns = [
    path("bench/bare", bare),
    path("bench/bare-read", bare_read),
    path("", include("config.runtime_urls")),
]
