from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app uses and no app owns: errors, the actor, API keys, input limits."""

    name = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the OpenAPI description of the bearer API-key authentication.
        from core import schema  # noqa: F401
