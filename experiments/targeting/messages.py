"""Marking the targeting core's messages for translation without importing Django."""

from __future__ import annotations

__all__ = ["gettext_noop"]


def gettext_noop(message: str) -> str:
    """Mark an English message for the translation catalogue (``makemessages`` extracts every
    ``gettext_noop("...")``); it is translated where it is shown (see ``Problem.translated``)."""
    return message
