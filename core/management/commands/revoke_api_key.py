from django.core.management.base import BaseCommand, CommandError

from core.api_keys import api_key_find, api_key_revoke
from core.errors import ValidationFailed


class Command(BaseCommand):
    help = (
        "Revoke an API key by id or prefix. It stops working at once on servers that have not "
        "seen it and within VERDICT_API_KEY_CACHE_SECONDS on those that have."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("key", help="The key's id or prefix (e.g. vk_AbC1234).")

    def handle(self, *args, key: str, **options) -> None:  # noqa: ANN002, ANN003
        try:
            found = api_key_find(ident=key)
        except ValidationFailed as exc:
            raise CommandError(exc.errors["key"][0]) from exc
        already = found.revoked_at is not None
        api_key_revoke(key=found)
        state = "was already revoked" if already else "is revoked"
        self.stdout.write(f"{found.role} key '{found.name}' ({found.prefix}…) {state}.")
