"""Roles for people, the same three as for API keys: admin, editor, viewer.

A person's role is the Django group they are in (``admin``, ``editor`` or ``viewer``); a
superuser is an admin, and a staff member in no role group is an editor (as staff could always
change experiments). Signed-in people in no group and not staff are viewers. Admins and editors
change experiments, metrics and layers; only admins manage API keys; viewers read.
"""

from __future__ import annotations

from typing import Any

ADMIN, EDITOR, VIEWER = "admin", "editor", "viewer"
ROLES = (ADMIN, EDITOR, VIEWER)


def user_role(user: Any) -> str | None:
    """The role of a signed-in person, or None for an anonymous one or anything that is not a
    person (an API key that authenticated an API request; its role is in ``core.permissions``)."""
    if user is None or not user.is_authenticated or not hasattr(user, "is_superuser"):
        return None
    if user.is_superuser:
        return ADMIN
    groups = set(user.groups.values_list("name", flat=True))
    for role in ROLES:
        if role in groups:
            return role
    return EDITOR if user.is_staff else VIEWER


def can_write(user: Any) -> bool:
    """Whether the person may create and change experiments, metrics and layers."""
    return user_role(user) in (ADMIN, EDITOR)


def is_admin(user: Any) -> bool:
    """Whether the person may manage API keys and delete a unit's data."""
    return user_role(user) == ADMIN


def role_context(request: Any) -> dict[str, Any]:
    """Template context processor: ``verdict_role``, ``can_write`` and ``is_admin``."""
    user = getattr(request, "user", None)
    role = user_role(user)
    return {
        "verdict_role": role,
        "can_write": role in (ADMIN, EDITOR),
        "is_admin": role == ADMIN,
    }
