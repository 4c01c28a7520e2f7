"""OpenAPI descriptions of Verdict's own authentication, registered when the ``core`` app loads.

drf-spectacular finds an ``OpenApiAuthenticationExtension`` by the class it targets; this one
documents ``core.auth.ApiKeyAuthentication`` as the HTTP bearer scheme ``apiKeyAuth``, so every
operation lists it and Swagger UI's "Authorize" dialog sends ``Authorization: Bearer <key>``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object

API_KEY_SCHEME = "apiKeyAuth"


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "core.auth.ApiKeyAuthentication"
    name = API_KEY_SCHEME
    match_subclasses = True

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        scheme = build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=self.target.keyword
        )
        scheme["description"] = (
            "An API key from `manage.py create_api_key` (`vk_...`), sent as "
            "`Authorization: Bearer <key>`. Roles: admin and editor write, viewer reads, app "
            "calls only assign and events."
        )
        return scheme
