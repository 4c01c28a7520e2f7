"""The zh_Hans catalogue with the pending pairs not merged yet, compiled for a test."""

from __future__ import annotations

import json
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parents[3]


def catalogue_with_pending(tmp_path: Path) -> Path:
    """A ``LOCALE_PATHS`` entry: the zh_Hans catalogue plus every pending pair, compiled."""
    catalogue = polib.pofile(str(ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"))
    known = {entry.msgid for entry in catalogue if not entry.msgctxt}
    for pending in sorted((ROOT / "locale/pending").glob("*.json")):
        for msgid, msgstr in json.loads(pending.read_text()).items():
            if msgid not in known:
                known.add(msgid)
                flags = ["python-format"] if "%(" in msgid else []
                catalogue.append(polib.POEntry(msgid=msgid, msgstr=msgstr, flags=flags))
    target = tmp_path / "locale/zh_Hans/LC_MESSAGES"
    target.mkdir(parents=True)
    catalogue.save_as_mofile(str(target / "django.mo"))
    return tmp_path / "locale"
