"""The data plane's URLs: only what apps call at runtime (see ``config.settings.data_plane``).

The same endpoints are mounted in the full app (``config.urls``) for small installs.
"""

from django.urls import include, path

from assignment.api.sdk_urls import runtime_urlpatterns

urlpatterns = [
    path("api/v1/", include("assignment.api.assign_urls")),
    path("api/v1/", include("assignment.api.event_urls")),
    *runtime_urlpatterns,
]
