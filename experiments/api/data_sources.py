"""Data sources through the API, for admins only (admin API keys, people in the admin role):
``/api/v1/data-sources`` (list, create) and ``/api/v1/data-sources/<key>`` (get, patch, delete).

``options`` is write-only: answers show each option's name with a masked value, never the
value; credentials in a Spark Connect URL (``;token=...``) are masked the same way.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.actors import actor_from_request
from core.api_fields import ClosedSerializer, StrictCharField, StrictSlugField
from core.models import ApiKey, ApiKeyRole
from core.roles import is_admin
from core.schema import ErrorDetail, error_responses
from core.warehouse_columns import EVENT_COLUMNS, EXPOSURE_COLUMNS
from experiments.models import DataSource, DataSourceKind
from experiments.services.data_sources import (
    SESSION_URL_HELP,
    data_source_create,
    data_source_delete,
    data_source_public,
    data_source_update,
)


class DataSourceAdminPermission(permissions.BasePermission):
    """Admin API keys, or people in the admin role (superusers or the ``admin`` group)."""

    message = "Only admins may read or change data sources."

    def has_permission(self, request: Any, view: Any) -> bool:
        auth = request.auth
        if isinstance(auth, ApiKey):
            return auth.role == ApiKeyRole.ADMIN
        return is_admin(request.user)


def _columns_field(names: tuple[str, ...], what: str) -> serializers.JSONField:
    # A subclass per mapping: decorating serializers.JSONField itself would give every JSON
    # field of the API (the audit log's before/after, ...) this schema.
    field_class = type(f"{what.title()}ColumnsField", (serializers.JSONField,), {})
    field = extend_schema_field(
        {
            "type": "object",
            "properties": {name: {"type": "string"} for name in names},
            "additionalProperties": False,
        }
    )(field_class)
    return field(
        required=False,
        help_text=(
            f"The physical column holding each logical {what} column "
            f"({', '.join(names)}); a column left out is read under its logical name."
        ),
    )


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {
            "oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}],
            "nullable": True,
            "description": "A setting's value; null (PATCH) removes the setting.",
        },
    }
)
class OptionsInputField(serializers.JSONField):
    """Spark settings (write-only)."""


@extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
class OptionsOutputField(serializers.JSONField):
    """Option names with masked values."""


class DataSourceInput(ClosedSerializer):
    key = StrictSlugField(max_length=64)
    name = StrictCharField(max_length=200)
    kind = serializers.ChoiceField(choices=DataSourceKind.choices)
    session_url = StrictCharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        help_text=(
            f"Spark only: {SESSION_URL_HELP}; hosts other than local mode must be listed by "
            "the operator in VERDICT_SPARK_ALLOWED_HOSTS."
        ),
    )
    exposures = StrictCharField(
        max_length=20_000,
        required=False,
        allow_blank=True,
        trim_whitespace=True,
        help_text=(
            "Spark only: a table name (`lake.exposures`) or one SQL SELECT, within the rules "
            "of docs/warehouse.md#security."
        ),
    )
    events = StrictCharField(
        max_length=20_000,
        required=False,
        allow_blank=True,
        trim_whitespace=True,
        help_text=(
            "Spark only: a table name (`lake.events`) or one SQL SELECT, within the rules of "
            "docs/warehouse.md#security."
        ),
    )
    exposure_columns = _columns_field(EXPOSURE_COLUMNS, "exposure")
    event_columns = _columns_field(EVENT_COLUMNS, "event")
    options = OptionsInputField(
        required=False,
        write_only=True,
        help_text=(
            "Spark configuration, e.g. credentials for the lake's storage; only the settings "
            "listed in docs/warehouse.md#security. Write-only: never shown back or logged. On "
            "PATCH, names merge: a value replaces that setting, null removes it, settings not "
            "named stay."
        ),
    )
    segments = serializers.ListField(
        child=StrictCharField(max_length=64),
        required=False,
        max_length=30,
        help_text=(
            "Spark only: the exposure attribute keys reports break results down by, e.g. "
            '["country", "platform"]; no other attribute value is read out of Spark.'
        ),
    )


class DataSourceOutput(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=DataSourceKind.choices)
    session_url = serializers.CharField(
        help_text="Credentials in the URL (`;token=...`) are masked as `********`."
    )
    exposures = serializers.CharField()
    events = serializers.CharField()
    exposure_columns = serializers.DictField(child=serializers.CharField())
    event_columns = serializers.DictField(child=serializers.CharField())
    options = OptionsOutputField(
        help_text="The option names, each with the value masked as `********`."
    )
    segments = serializers.ListField(
        child=serializers.CharField(), help_text="The attribute keys shown as segments."
    )
    experiments = serializers.ListField(
        child=serializers.CharField(), help_text="Keys of the experiments that read this source."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def _output(source: DataSource) -> dict[str, Any]:
    return DataSourceOutput(
        {
            **data_source_public(source),
            "experiments": list(source.experiments.order_by("key").values_list("key", flat=True)),
            "created_at": source.created_at,
            "updated_at": source.updated_at,
        }
    ).data


def _source_or_404(key: str) -> DataSource:
    source = DataSource.objects.filter(key=key).first()
    if source is None:
        raise Http404(f'No data source with key "{key}".')
    return source


_NOT_ADMIN = {403: OpenApiResponse(ErrorDetail, description="The caller is not an admin.")}
_EXAMPLE = OpenApiExample(
    "Spark Connect, existing tables",
    request_only=True,
    value={
        "key": "lake",
        "name": "Data lake (Databricks)",
        "kind": "spark",
        "session_url": "sc://dbc-1234.cloud.databricks.com:443/;use_ssl=true;token=dapi...",
        "exposures": "analytics.ab_exposures",
        "events": (
            "SELECT event_uuid AS event_id, user_id AS unit_id, name AS event, ts AS timestamp, "
            "amount AS value FROM analytics.events WHERE ts >= '2024-01-01'"
        ),
        "exposure_columns": {"unit_id": "user_id", "first_exposed_at": "exposed_at"},
        "options": {"spark.sql.session.timeZone": "UTC"},
        "segments": ["country", "platform"],
    },
)


class DataSourceListApi(APIView):
    permission_classes = [DataSourceAdminPermission]

    @extend_schema(
        responses={200: DataSourceOutput(many=True), **_NOT_ADMIN},
        description="Every data source, option values masked.",
    )
    def get(self, request: Request) -> Response:
        sources = DataSource.objects.order_by("key")
        return Response([_output(source) for source in sources])

    @extend_schema(
        request=DataSourceInput,
        responses={201: DataSourceOutput, **error_responses(400), **_NOT_ADMIN},
        examples=[_EXAMPLE],
        description=(
            "Create a data source. `spark` needs `session_url`, `exposures` and `events`; "
            "`builtin` (the application database) takes none of them. A relation, option or "
            "session host outside the rules of docs/warehouse.md#security is a 400 on its "
            "field (`options.<name>` for an option)."
        ),
    )
    def post(self, request: Request) -> Response:
        data = DataSourceInput(data=request.data)
        data.is_valid(raise_exception=True)
        source = data_source_create(
            actor=actor_from_request(request), data=dict(data.validated_data)
        )
        return Response(_output(source), status=status.HTTP_201_CREATED)


class DataSourceDetailApi(APIView):
    permission_classes = [DataSourceAdminPermission]

    @extend_schema(responses={200: DataSourceOutput, **error_responses(404), **_NOT_ADMIN})
    def get(self, request: Request, key: str) -> Response:
        return Response(_output(_source_or_404(key)))

    @extend_schema(
        request=DataSourceInput,
        responses={200: DataSourceOutput, **error_responses(400, 404), **_NOT_ADMIN},
        description=(
            "Change the fields given; the key cannot change. `options` merges by name (null "
            "removes a setting). A session URL sent back with `********` keeps the stored "
            "credential."
        ),
    )
    def patch(self, request: Request, key: str) -> Response:
        source = _source_or_404(key)
        data = DataSourceInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        source = data_source_update(
            actor=actor_from_request(request), source=source, data=dict(data.validated_data)
        )
        return Response(_output(source))

    @extend_schema(
        responses={204: None, **error_responses(400, 404), **_NOT_ADMIN},
        description=(
            "Delete a data source no running, paused or stopped experiment reads (400 "
            "otherwise); drafts and concluded experiments that name it go back to the "
            "application database."
        ),
    )
    def delete(self, request: Request, key: str) -> Response:
        data_source_delete(actor=actor_from_request(request), source=_source_or_404(key))
        return Response(status=status.HTTP_204_NO_CONTENT)
