"""Who may do what through the API.

API keys carry a role: admin and editor write experiments and metrics, viewer reads, app may
only call the runtime endpoints (assign, events). People signed in with a session have the
same roles (``core.roles``): viewers read, editors and admins write.
"""

from __future__ import annotations

from typing import Any

from rest_framework import permissions

from core.models import ApiKey, ApiKeyRole
from core.roles import can_write

WRITERS = {ApiKeyRole.ADMIN, ApiKeyRole.EDITOR}
RUNTIME_CALLERS = {ApiKeyRole.APP, ApiKeyRole.ADMIN, ApiKeyRole.EDITOR}
CLIENT_KEY_MESSAGE = (
    "Client keys are public and read-only: they may only load the SDK payload at "
    "/api/v1/sdk/<client_key>/features."
)


class ControlPlanePermission(permissions.BasePermission):
    message = "This API key's role may not do this."

    def has_permission(self, request: Any, view: Any) -> bool:
        auth = request.auth
        if isinstance(auth, ApiKey):
            if auth.role == ApiKeyRole.APP:
                self.message = "App keys may only call the runtime endpoints (assign, events)."
                return False
            if auth.role == ApiKeyRole.CLIENT:
                self.message = CLIENT_KEY_MESSAGE
                return False
            if request.method in permissions.SAFE_METHODS:
                return True
            self.message = "Viewer keys are read-only."
            return auth.role in WRITERS
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        self.message = "Viewers may read but not change experiments, metrics or layers."
        return can_write(user)


class RuntimePermission(permissions.BasePermission):
    """For assign, event and exposure endpoints: app, editor and admin keys, or staff sessions."""

    message = "Only app, editor and admin keys may call the runtime endpoints."

    def has_permission(self, request: Any, view: Any) -> bool:
        auth = request.auth
        if isinstance(auth, ApiKey):
            if auth.role == ApiKeyRole.CLIENT:
                self.message = CLIENT_KEY_MESSAGE
            return auth.role in RUNTIME_CALLERS
        user = request.user
        return bool(user and user.is_authenticated and can_write(user))
