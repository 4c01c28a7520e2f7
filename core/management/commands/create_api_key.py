from django.core.management.base import BaseCommand, CommandError

from core.api_keys import api_key_create
from core.errors import ValidationFailed
from core.models import ApiKeyRole


class Command(BaseCommand):
    help = "Create an API key and print it once, on the last line. Only its hash is stored."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("name")
        parser.add_argument(
            "--role",
            required=True,
            choices=ApiKeyRole.values,
            help=(
                "admin/editor write, viewer reads, app calls assign, events and exposures; "
                "client is public and read-only: it only loads the SDK payload at "
                "/api/v1/sdk/<key>/features (safe to ship inside browser and mobile apps)."
            ),
        )

    def handle(self, *args, name: str, role: str, **options) -> None:  # noqa: ANN002, ANN003
        try:
            key, raw = api_key_create(name=name, role=role)
        except ValidationFailed as exc:
            raise CommandError(str(exc)) from exc
        if key.role == ApiKeyRole.CLIENT:
            self.stdout.write(
                f"Created client key '{key.name}': public and read-only. SDKs load its payload "
                f"from /api/v1/sdk/{raw}/features (apiHost + /api/features/{raw}). The key:"
            )
        else:
            self.stdout.write(
                f"Created {key.role} key '{key.name}'. Store it now; it is not shown again:"
            )
        self.stdout.write(raw)
