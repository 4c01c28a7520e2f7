"""``python manage.py layers``: the layers of Verdict as its imports draw them.

Reads every import of the project's packages (with grimp, the library import-linter uses) and
prints, for each app and for the sub-packages of ``analysis``, which others it imports, top
layer first. docs/architecture.md shows this output; ``lint-imports`` enforces the rules.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

APPS = ("console", "analysis", "assignment", "experiments", "core", "config")
ANALYSIS_PARTS = ("api", "services", "warehouse", "aggregation", "words", "engine")


def _group(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] not in APPS:
        return None
    if parts[0] == "analysis" and len(parts) > 1 and parts[1] in ANALYSIS_PARTS:
        return f"analysis.{parts[1]}"
    return parts[0]


class Command(BaseCommand):
    help = "Print which of Verdict's apps (and analysis's parts) import which, top layer first."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            import grimp
        except ImportError as exc:
            raise CommandError("layers needs grimp (installed with the dev extra).") from exc
        graph = grimp.build_graph(*APPS)
        edges: dict[str, set[str]] = {}
        for module in graph.modules:
            source = _group(module)
            if source is None:
                continue
            for imported in graph.find_modules_directly_imported_by(module):
                target = _group(imported)
                if target is not None and target != source:
                    edges.setdefault(source, set()).add(target)
        order = [
            "console",
            "analysis",
            *(f"analysis.{part}" for part in ANALYSIS_PARTS),
            "assignment",
            "experiments",
            "core",
        ]
        for name in order:
            targets = sorted(edges.get(name, set()) - {"config"}, key=order.index)
            self.stdout.write(f"{name:<22} -> {', '.join(targets) if targets else '(nothing)'}")
