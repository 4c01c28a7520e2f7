from django.core.management.base import BaseCommand, CommandError

from core.api_keys import api_key_create
from core.errors import ValidationFailed
from core.models import ApiKeyRole


class Command(BaseCommand):
    help = "Create an API key and print it once, on the last line. Only its hash is stored."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("name")
        parser.add_argument("--role", required=True, choices=ApiKeyRole.values)

    def handle(self, *args, name: str, role: str, **options) -> None:  # noqa: ANN002, ANN003
        try:
            key, raw = api_key_create(name=name, role=role)
        except ValidationFailed as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Created {key.role} key '{key.name}'. Store it now; it is not shown again:"
        )
        self.stdout.write(raw)
