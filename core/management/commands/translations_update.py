"""Refresh the Simplified Chinese catalogue from the code and the pending translations.

``manage.py translations_update`` runs ``makemessages`` for zh_Hans, fills every empty or fuzzy
entry whose English text has a translation in ``locale/pending/*.json`` (objects of
``{"English": "中文"}``), clears the fuzzy flag of what it filled, and compiles the catalogue.
It prints what is still untranslated; the test suite fails while anything is.
"""

from __future__ import annotations

import json
from pathlib import Path

import polib
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

IGNORE = ["node_modules/*", ".venv/*", "staticfiles/*", "bench/*", "docs/*", "tests/*"]


def pending_translations(folder: Path) -> dict[str, str]:
    """Every English -> Chinese pair in the folder's JSON files (later files win)."""
    pairs: dict[str, str] = {}
    for path in sorted(folder.glob("*.json")):
        pairs.update(json.loads(path.read_text(encoding="utf-8")))
    return pairs


def catalogue_fill(po_path: Path, pairs: dict[str, str]) -> list[str]:
    """Fill empty or fuzzy entries from ``pairs``; returns the msgids still untranslated."""
    catalogue = polib.pofile(str(po_path))
    missing = []
    for entry in catalogue:
        if entry.obsolete:
            continue
        needs = not entry.msgstr or "fuzzy" in entry.flags
        if entry.msgid_plural:
            needs = not all(entry.msgstr_plural.values()) or "fuzzy" in entry.flags
        if not needs:
            continue
        text = pairs.get(entry.msgid)
        if text:
            if entry.msgid_plural:
                entry.msgstr_plural = {0: pairs.get(entry.msgid_plural, text)}
            else:
                entry.msgstr = text
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
                entry.previous_msgid = None
        else:
            missing.append(entry.msgid)
    catalogue.save(str(po_path))
    return missing


class Command(BaseCommand):
    help = "Extract strings, fill zh_Hans from locale/pending/*.json, compile; list what is left."

    def handle(self, *args: object, **options: object) -> None:
        locale_dir = Path(settings.LOCALE_PATHS[0])
        call_command(
            "makemessages",
            locale=["zh_Hans"],
            ignore_patterns=IGNORE,
            no_obsolete=True,
            verbosity=0,
        )
        po_path = locale_dir / "zh_Hans" / "LC_MESSAGES" / "django.po"
        missing = catalogue_fill(po_path, pending_translations(locale_dir / "pending"))
        call_command("compilemessages", locale=["zh_Hans"], verbosity=0)
        for msgid in missing:
            self.stdout.write(f"untranslated: {msgid!r}")
        self.stdout.write(f"{len(missing)} untranslated")
