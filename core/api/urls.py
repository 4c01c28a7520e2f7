"""API key management (admins)."""

from django.urls import path

from .api_keys import ApiKeyListApi, ApiKeyRevokeApi

urlpatterns = [
    path("api-keys", ApiKeyListApi.as_view(), name="api-key-list"),
    path("api-keys/<int:key_id>/revoke", ApiKeyRevokeApi.as_view(), name="api-key-revoke"),
]
