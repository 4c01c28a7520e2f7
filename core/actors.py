from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    """Who is making a change: a signed-in person, an API key, or the system."""

    label: str
    user: Any = None

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(label=label)


def actor_from_request(request: Any) -> Actor:
    """The actor behind a Django or DRF request (a user session or an API key)."""
    from core.models import ApiKey

    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiKey):
        return Actor(label=f"api-key:{auth.name}")
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Actor(label=user.get_username(), user=user)
    return Actor.system("anonymous")
