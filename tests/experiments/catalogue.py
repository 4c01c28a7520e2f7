"""The zh_Hans catalogue as it will be once the pending translations are merged, for tests that
check what a Chinese page shows before the coordinator runs ``manage.py translations_update``."""

from __future__ import annotations

import json
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parents[2]


def catalogue_with_pending(tmp_path: Path) -> Path:
    """A locale folder holding the zh_Hans catalogue plus every pending pair, compiled; point
    ``settings.LOCALE_PATHS`` at it."""
    catalogue = polib.pofile(str(ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"))
    known = {entry.msgid for entry in catalogue}
    for pending in sorted((ROOT / "locale/pending").glob("*.json")):
        for msgid, msgstr in json.loads(pending.read_text(encoding="utf-8")).items():
            if msgid not in known:
                known.add(msgid)
                flags = ["python-format"] if "%(" in msgid else []
                catalogue.append(polib.POEntry(msgid=msgid, msgstr=msgstr, flags=flags))
    target = tmp_path / "locale/zh_Hans/LC_MESSAGES"
    target.mkdir(parents=True)
    catalogue.save_as_mofile(str(target / "django.mo"))
    return tmp_path / "locale"
