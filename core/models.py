"""API keys: the bearer credentials every API checks (only a hash is stored); and
``text_choices``, which makes a model's choices from the shared vocabulary."""

import hashlib

from django.conf import settings
from django.db import models

from core.vocab import LabelledEnum


def text_choices(enum: type[LabelledEnum]) -> type[models.TextChoices]:
    """Django choices with ``enum``'s values, names and English labels (``core.vocab``): the
    models keep Django's ``choices`` and ``label`` while the vocabulary has one home."""
    return models.TextChoices(enum.__name__, [(m.name, (m.value, m.label)) for m in enum])


class ApiKeyRole(models.TextChoices):
    ADMIN = "admin", "Admin"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"
    APP = "app", "App"
    CLIENT = "client", "Client"


class ApiKey(models.Model):
    """A bearer key for the API. Only the SHA-256 of the key is stored."""

    name = models.CharField(max_length=100)
    role = models.CharField(max_length=8, choices=ApiKeyRole.choices)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Who made the key: the person on the web page or in the admin; null for keys made with
    # ``manage.py create_api_key`` (or whose creator was deleted).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="api_keys_created",
    )
    # When the key last authenticated a request, recorded at most once per key every
    # VERDICT_API_KEY_LAST_USED_MINUTES (see core.auth.api_key_used): a lower bound, never late
    # by more than that.
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        # The table keeps the name it had when the model lived in ``experiments``.
        db_table = "experiments_apikey"

    def __str__(self) -> str:
        return f"{self.name} ({self.role}, {self.prefix}…)"

    @staticmethod
    def hash_key(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @property
    def is_authenticated(self) -> bool:
        return True
