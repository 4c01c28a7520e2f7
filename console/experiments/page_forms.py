"""Forms of the experiment page: new phase, conclude, QA override.

They check what a form can (types, required fields); the rules are the services' own, whose
``ValidationFailed`` errors ``console.form_errors.add_service_errors`` puts next to the
matching fields.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from console.labels import DECISION_LABELS
from experiments.models import Decision, Experiment
from experiments.services.experiments import MAX_LEARNINGS_LENGTH


class NewPhaseForm(forms.Form):
    """Coverage, one weight per variant and a reason; every unit is assigned afresh."""

    coverage = forms.FloatField(
        label=_("Coverage"),
        help_text=_("Share of eligible units in the experiment, from 0 to 1 (0.5 is 50%)."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        help_text=_("Why the phase changes; kept in the audit log."),
    )

    def __init__(self, *args: Any, experiment: Experiment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["coverage"].initial = experiment.coverage
        self.variant_fields: list[str] = []
        for variant in experiment.variants.all():
            name = f"weight_{variant.key}"
            self.fields[name] = forms.FloatField(
                label=_("Weight of %(variant)s") % {"variant": variant.name or variant.key},
                initial=variant.weight,
            )
            self.fields[name].variant_key = variant.key  # type: ignore[attr-defined]
            self.variant_fields.append(name)

    def weights(self) -> dict[str, float]:
        return {
            self.fields[name].variant_key: self.cleaned_data[name]  # type: ignore[attr-defined]
            for name in self.variant_fields
        }

    def weight_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.variant_fields]

    def other_fields(self) -> list[forms.BoundField]:
        return [self["coverage"], self["reason"]]


def decision_needs_winner(decision: object) -> bool:
    """Whether a conclusion with this decision names a winner: only shipping a variant does."""
    return decision == Decision.SHIP


class ConcludeForm(forms.Form):
    """The decision, the winner (one of this experiment's variants), the review and the
    learnings (which the readout shows and editors can change there later).

    The winner field exists only when the decision takes one (shipping a variant): the decision
    comes from the posted data, or from ``decision`` (the page's ``?decision=`` link) before
    anything is posted. For other decisions a posted winner is ignored, so the service never
    sees one; shipping without a winner is an error on the winner field.
    """

    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect)
    winner = forms.ChoiceField(
        label=_("Winner"),
        help_text=_("The variant to ship; the control is kept with “Keep control”."),
        error_messages={
            "required": _("Name the variant to ship (a variant key of this experiment).")
        },
    )
    review = forms.CharField(
        label=_("Review: expected vs actual"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text=_("What we expected and what happened."),
    )
    learnings = forms.CharField(
        label=_("Learnings"),
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        max_length=MAX_LEARNINGS_LENGTH,
        help_text=_("What we learned and what to do next; shown on the readout (复盘)."),
    )

    def __init__(
        self, *args: Any, experiment: Experiment, decision: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = list(DECISION_LABELS.items())
        self.fields["learnings"].initial = experiment.learnings
        chosen = self.data.get("decision") if self.is_bound else decision
        if not self.is_bound and chosen in DECISION_LABELS:
            self.fields["decision"].initial = chosen
        self.needs_winner = decision_needs_winner(chosen)
        if self.needs_winner:
            self.fields["winner"].choices = [("", _("Choose the variant to ship"))] + [
                (v.key, f"{v.name} ({v.key})")
                for v in experiment.variants.all()
                if not v.is_control
            ]
        else:
            del self.fields["winner"]

    def winner_field(self) -> forms.BoundField | None:
        return self["winner"] if self.needs_winner else None

    def params(self) -> dict[str, str]:
        decision = self.cleaned_data["decision"]
        winner = self.cleaned_data.get("winner", "") if decision_needs_winner(decision) else ""
        return {
            "decision": decision,
            "winner": winner,
            "review": self.cleaned_data["review"],
            "learnings": self.cleaned_data["learnings"],
        }


class ReasonForm(forms.Form):
    """An optional note for a pause, resume, stop or archive, kept in the audit log."""

    reason = forms.CharField(label=_("Note for the audit log"), max_length=300, required=False)


class OverrideForm(forms.Form):
    """Force unit ids into a variant: one id, or a pasted list with one id per line (the
    service, ``override_set_lines``, reads the lines and refuses ids with whitespace)."""

    unit_id = forms.CharField(
        label=_("Unit ids, one per line"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_("Paste a list to force several units at once: all are saved, or none."),
    )
    variant = forms.ChoiceField(label=_("Variant"))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args: Any, experiment: Experiment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["variant"].choices = [
            (v.key, f"{v.name} ({v.key})") for v in experiment.variants.all()
        ]
