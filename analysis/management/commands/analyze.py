"""``python manage.py analyze <experiment_key>``: refresh now, in this process, and print.

The same refresh as every other door (``experiment_refresh_run``): a harmful guardrail pauses
the experiment when its plan says so, and the notifications go out. Reasons and health
messages are printed in English, by the renderer the API uses (``analysis.words``).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from analysis.engine.contract import Results
from analysis.selectors import snapshot_results
from analysis.services.refresh import experiment_refresh_run
from analysis.services.snapshots import RefreshFailed
from analysis.words import decision_reasons, health_message, results_in_words
from experiments.models import Experiment


def _fmt(x: Any, spec: str = ".4g") -> str:
    return "-" if x is None else format(x, spec)


class Command(BaseCommand):
    help = "Compute a result snapshot for an experiment now and print a summary."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("experiment_key")
        parser.add_argument("--json", action="store_true", help="Print the full results JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        key = options["experiment_key"]
        experiment = Experiment.objects.filter(key=key).first()
        if experiment is None:
            raise CommandError(f'No experiment with key "{key}".')
        try:
            snapshot = experiment_refresh_run(experiment=experiment)
        except RefreshFailed as exc:
            raise CommandError(f"Refresh failed: {exc.snapshot.error}") from exc
        results = snapshot_results(snapshot=snapshot)
        with translation.override("en"):
            if options["json"]:
                self.stdout.write(json.dumps(results_in_words(results), indent=2))
                return
            self._summary(snapshot.id, snapshot.duration_seconds, results)

    def _summary(self, snapshot_id: int, seconds: float, r: Results) -> None:
        w = self.stdout.write
        w(f"{r.experiment} phase {r.phase} ({r.status}), snapshot {snapshot_id}")
        w(f"as of {r.as_of}, computed in {seconds:.2f} s")
        units = ", ".join(f"{k} {n:,}" for k, n in r.units.by_variant.items())
        ex = r.units.excluded
        w(
            f"units: {units} (excluded: {ex.forced} forced, "
            f"{ex.multiple_variants} multiple variants); events: {r.events:,}"
        )
        w(f"SRM p = {_fmt(r.srm.p_value)}{' MISMATCH' if r.srm.mismatch else ''}")
        for m in r.metrics:
            w(f"\n{m.metric} ({m.role}, {m.type})")
            for v in m.variants:
                line = f"  {v.variant:<16} units {v.units:>9,}  mean {_fmt(v.mean)}"
                if not v.is_control:
                    low, high = v.ci or (None, None)
                    line += (
                        f"  effect {_fmt(v.effect, '+.2%')}"
                        f" [{_fmt(low, '+.2%')}, {_fmt(high, '+.2%')}]"
                    )
                    if v.chance_to_win is not None:
                        line += f"  chance to win {v.chance_to_win:.1%}"
                    else:
                        line += f"  p {_fmt(v.p_value)}"
                    line += f"  {v.outcome}"
                w(line)
        d = r.decision
        w(f"\nDecision: {d.recommendation}" + (f" {d.variant}" if d.variant else ""))
        for reason in decision_reasons(d):
            w(f"  - {reason}")
        for h in r.health:
            w(f"Health [{h.severity}] {h.check}: {health_message(h)}")
