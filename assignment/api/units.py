"""``DELETE /api/v1/units/<unit_id>``: delete one unit's data (admins only)."""

from __future__ import annotations

from typing import Any

from django.urls import re_path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assignment.services.units import unit_data_delete
from core.actors import actor_from_request
from core.limits import MAX_UNIT_ID_LENGTH
from core.models import ApiKey, ApiKeyRole
from core.roles import is_admin
from core.schema import ErrorDetail, error_responses


class AdminOnly(permissions.BasePermission):
    """Admin API keys, or people with the admin role."""

    message = "Only admins may delete a unit's data."

    def has_permission(self, request: Any, view: Any) -> bool:
        if isinstance(request.auth, ApiKey):
            return request.auth.role == ApiKeyRole.ADMIN
        return is_admin(request.user)


class UnitDeletionOutput(serializers.Serializer):
    unit_id = serializers.CharField()
    unit_hash = serializers.CharField(
        help_text="SHA-256 of the unit id: how the audit log names this deletion."
    )
    exposures = serializers.IntegerField(min_value=0)
    events = serializers.IntegerField(min_value=0)
    overrides = serializers.IntegerField(min_value=0)
    audit_entries = serializers.IntegerField(
        min_value=0,
        help_text="Earlier audit entries naming the unit, now naming its SHA-256 instead.",
    )
    experiments = serializers.ListField(
        child=serializers.CharField(),
        help_text="Keys of the experiments whose exposures or overrides were deleted.",
    )


class UnitDataApi(APIView):
    permission_classes = [AdminOnly]

    @extend_schema(
        operation_id="units_data_delete",
        parameters=[
            OpenApiParameter(
                "unit_id",
                str,
                OpenApiParameter.PATH,
                description=f"The unit id as the app sent it (1 to {MAX_UNIT_ID_LENGTH} "
                "characters).",
            )
        ],
        responses={
            200: OpenApiResponse(
                UnitDeletionOutput,
                description="What was deleted (zeros when the unit had no data).",
            ),
            **error_responses(400),
            404: OpenApiResponse(ErrorDetail, description="No unit id in the path."),
        },
        description=(
            "Delete every exposure, event and QA override of a unit (a data-subject request), "
            "and record the deletion in the audit log under the SHA-256 of the unit id (earlier "
            "audit entries naming the unit keep only that hash). "
            "Snapshots hold no unit ids; refresh an experiment's results to recompute them "
            "without the unit. Admins only. Repeating the call deletes nothing more."
        ),
    )
    def delete(self, request: Request, unit_id: str) -> Response:
        deletion = unit_data_delete(actor=actor_from_request(request), unit_id=unit_id)
        return Response(UnitDeletionOutput(deletion.as_dict()).data)


urlpatterns = [
    # Any text after units/, slashes and line breaks included: every stored id can be deleted.
    re_path(r"^units/(?P<unit_id>[\s\S]+)\Z", UnitDataApi.as_view(), name="unit-data"),
]
