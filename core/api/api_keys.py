"""API key management for admins: ``GET /api/v1/api-keys`` lists keys,
``POST /api/v1/api-keys/<id>/revoke`` revokes one. Only admin keys and superusers may call them.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_keys import api_key_list, api_key_revoke
from core.models import ApiKey, ApiKeyRole
from core.schema import ErrorDetail


class AdminPermission(permissions.BasePermission):
    """Admin API keys, or people signed in as superusers."""

    message = "Only admins may manage API keys."

    def has_permission(self, request: Any, view: Any) -> bool:
        auth = request.auth
        if isinstance(auth, ApiKey):
            return auth.role == ApiKeyRole.ADMIN
        user = request.user
        return bool(user and user.is_authenticated and user.is_superuser)


class ApiKeyOutput(serializers.ModelSerializer):
    active = serializers.SerializerMethodField(help_text="False once the key is revoked.")
    created_by = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Who created the key (null for keys made with manage.py create_api_key).",
    )

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "role",
            "prefix",
            "created_at",
            "created_by",
            "last_used_at",
            "revoked_at",
            "active",
        ]
        extra_kwargs = {
            "prefix": {"help_text": "The key's first characters, to recognise it."},
            "last_used_at": {
                "help_text": (
                    "The key's last use, recorded at most once per "
                    "VERDICT_API_KEY_LAST_USED_MINUTES (5 by default); null if never used."
                )
            },
        }

    def get_active(self, key: ApiKey) -> bool:
        return key.revoked_at is None


_NOT_ADMIN = OpenApiResponse(ErrorDetail, description="The caller is not an admin.")


class ApiKeyListApi(APIView):
    permission_classes = [AdminPermission]

    @extend_schema(
        responses={200: ApiKeyOutput(many=True), 403: _NOT_ADMIN},
        description="Every API key (active first), without the keys themselves.",
    )
    def get(self, request: Request) -> Response:
        return Response(ApiKeyOutput(api_key_list(), many=True).data)


class ApiKeyRevokeApi(APIView):
    permission_classes = [AdminPermission]

    @extend_schema(
        request=None,
        responses={
            200: ApiKeyOutput,
            403: _NOT_ADMIN,
            404: OpenApiResponse(ErrorDetail, description="No key with that id."),
        },
        description=(
            "Revoke a key. It stops working at once on this server and within "
            "VERDICT_API_KEY_CACHE_SECONDS (30 s by default) on every other. Revoking a revoked "
            "key keeps the first revocation time."
        ),
    )
    def post(self, request: Request, key_id: int) -> Response:
        key = api_key_revoke(key=get_object_or_404(ApiKey, pk=key_id))
        return Response(ApiKeyOutput(key).data)
