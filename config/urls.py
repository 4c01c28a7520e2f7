from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

DOCS_METHODS = ["get", "head"]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="web:experiment-list"), name="home"),
    # Browsers ask for /favicon.ico whatever the page links: the same small SVG, from static.
    path("favicon.ico", RedirectView.as_view(url=static("verdict/favicon.svg")), name="favicon"),
    path("", include("console.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The docs pages are HTML for browsers: GET only (OPTIONS answers 405, not a server error).
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="schema", http_method_names=DOCS_METHODS),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(
            url_name="schema", template_name="api/redoc.html", http_method_names=DOCS_METHODS
        ),
        name="api-redoc",
    ),
    path("api/v1/", include("experiments.api.urls")),
    path("api/v1/", include("assignment.api.assign_urls")),
    path("api/v1/", include("assignment.api.event_urls")),
    path("api/v1/", include("assignment.api.units")),
    path("", include("assignment.api.sdk_urls")),
    path("api/v1/", include("analysis.api.urls")),
    path("api/v1/", include("core.api.urls")),
    path("", include("core.health")),
    path("i18n/", include("django.conf.urls.i18n")),
]

# A refused page is shown inside the console's frame, with its reason (console/errors.py).
handler403 = "console.errors.permission_denied"
