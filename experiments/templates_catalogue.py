"""Experiment templates: a starting design for the common kinds of test (pricing, onboarding,
promotion), with recommended metrics, example variants and an analysis plan.

The one home of the templates. They are data: metrics are named by key, and a key this
installation's metrics library does not have is left out of the design (``template_design``
says which) rather than failing, so a template works with any library. The texts are in the
reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core import vocab
from experiments.models import Experiment, Metric


@dataclass(frozen=True)
class TemplateVariant:
    key: str
    name: Promise
    payload: dict[str, Any]
    weight: float = 1.0
    is_control: bool = False


@dataclass(frozen=True)
class TemplateMetric:
    key: str
    role: str
    harm_threshold: float | None = None


@dataclass(frozen=True)
class ExperimentTemplate:
    key: str
    title: Promise
    summary: Promise
    kind: str
    name: Promise
    hypothesis: Promise
    expected_effect: Promise
    variants: tuple[TemplateVariant, ...]
    metrics: tuple[TemplateMetric, ...]
    analysis_plan: dict[str, Any]
    targeting: dict[str, Any] = field(default_factory=dict)
    planned_duration_days: int | None = None

    @property
    def suggested_key(self) -> str:
        """The experiment key a design from this template starts with (``pricing-test``)."""
        return f"{self.key}-test"


PRIMARY = vocab.MetricRole.PRIMARY.value
SECONDARY = vocab.MetricRole.SECONDARY.value
GUARDRAIL = vocab.MetricRole.GUARDRAIL.value

TEMPLATES: tuple[ExperimentTemplate, ...] = (
    ExperimentTemplate(
        key="pricing",
        title=_("Pricing"),
        summary=_(
            "Test a new price against the current one: fewer people may pay, but each may pay "
            "more. Paid conversion decides; revenue per user and order value explain it; refunds "
            "guard it."
        ),
        kind=vocab.ExperimentKind.PRICING.value,
        name=_("Pro price: 29 vs 39 per month"),
        hypothesis=_(
            "At 39 a month instead of 29, slightly fewer users upgrade to Pro, but revenue per "
            "user rises."
        ),
        expected_effect=_("+8% revenue per user, at most −5% paid conversion"),
        variants=(
            TemplateVariant(
                "current-price", _("Current price (29)"), {"monthly_price": 29}, 1, True
            ),
            TemplateVariant("higher-price", _("Higher price (39)"), {"monthly_price": 39}),
        ),
        metrics=(
            TemplateMetric("paid_conversion", PRIMARY),
            TemplateMetric("arpu", SECONDARY),
            TemplateMetric("aov", SECONDARY),
            TemplateMetric("refund_rate", GUARDRAIL, 0.02),
        ),
        analysis_plan={
            "alpha": 0.05,
            "method": "frequentist",
            "correction": "holm",
            "cuped": True,
            "mde": 0.05,
            "guardrail_auto_pause": True,
        },
        planned_duration_days=14,
    ),
    ExperimentTemplate(
        key="onboarding",
        title=_("Onboarding"),
        summary=_(
            "Try a new first-run experience on new users only. Day-7 retention decides, day-1 "
            "retention shows the early signal, and paid conversion guards against harm."
        ),
        kind=vocab.ExperimentKind.ONBOARDING.value,
        name=_("New-user checklist instead of the tour"),
        hypothesis=_(
            "A checklist of first steps brings more new users back a week later than the "
            "guided tour."
        ),
        # xgettext:no-python-format
        expected_effect=_("+3% day-7 retention"),
        variants=(
            TemplateVariant("tour", _("Guided tour"), {"flow": "tour"}, 1, True),
            TemplateVariant("checklist", _("Checklist"), {"flow": "checklist"}),
        ),
        metrics=(
            TemplateMetric("d7_retention", PRIMARY),
            TemplateMetric("d1_retention", SECONDARY),
            TemplateMetric("paid_conversion", GUARDRAIL),
        ),
        analysis_plan={
            "alpha": 0.05,
            "method": "sequential",
            "correction": "none",
            "cuped": False,
            "mde": 0.03,
            "guardrail_auto_pause": False,
        },
        targeting={"is_new_user": True},
        planned_duration_days=21,
    ),
    ExperimentTemplate(
        key="promotion",
        title=_("Promotion"),
        summary=_(
            "Offer a coupon or discount to some users: does it win enough extra orders to pay "
            "for itself? Paid conversion decides; net revenue and coupon cost show the price of "
            "the win; refunds guard it."
        ),
        kind=vocab.ExperimentKind.PROMOTION.value,
        name=_("First-order coupon: 10 off"),
        hypothesis=_(
            "A first-order coupon raises first-order conversion enough to pay for itself in "
            "net revenue, without raising refunds."
        ),
        expected_effect=_("+10% paid conversion, net revenue per user no lower"),
        variants=(
            TemplateVariant("no-coupon", _("No coupon"), {}, 1, True),
            TemplateVariant(
                "coupon",
                _("Coupon NEW10: 10 off orders of 50 or more"),
                {"coupon": "NEW10", "min_spend": 50, "discount": 10},
            ),
        ),
        metrics=(
            TemplateMetric("paid_conversion", PRIMARY),
            TemplateMetric("net_revenue", SECONDARY),
            TemplateMetric("coupon_cost", SECONDARY),
            TemplateMetric("aov", SECONDARY),
            TemplateMetric("refund_rate", GUARDRAIL, 0.02),
        ),
        analysis_plan={
            "alpha": 0.05,
            "method": "bayesian",
            "correction": "none",
            "cuped": False,
            "mde": 0.1,
            "guardrail_auto_pause": True,
        },
        targeting={"is_new_user": True},
        planned_duration_days=14,
    ),
)
TEMPLATES_BY_KEY = {template.key: template for template in TEMPLATES}


@dataclass(frozen=True)
class TemplateDesign:
    """A template made concrete for this installation: ``data`` in the services' input shape
    (``experiment_create``), without the metrics ``missing_metrics`` names."""

    template: ExperimentTemplate
    data: dict[str, Any]
    missing_metrics: tuple[str, ...]


def template_get(key: str | None) -> ExperimentTemplate | None:
    """The template with this key, or None."""
    return TEMPLATES_BY_KEY.get(key or "")


def _free_key(base: str) -> str:
    """``base``, or ``base-2``, ``base-3``, … when experiments already have it."""
    taken = set(Experiment.objects.filter(key__startswith=base).values_list("key", flat=True))
    number = 1
    while (key := base if number == 1 else f"{base}-{number}") in taken:
        number += 1
    return key


def template_design(template: ExperimentTemplate) -> TemplateDesign:
    """The template's design in the reader's language, keeping only the metrics this
    installation has. Without the primary metric the design has no primary: the person picks
    one (the start checks ask for it)."""
    wanted = [m.key for m in template.metrics]
    present = set(Metric.objects.filter(key__in=wanted).values_list("key", flat=True))
    metrics = [
        {"metric": m.key, "role": m.role}
        | ({"harm_threshold": m.harm_threshold} if m.harm_threshold is not None else {})
        for m in template.metrics
        if m.key in present
    ]
    data = {
        "key": _free_key(template.suggested_key),
        "name": str(template.name),
        "kind": template.kind,
        "hypothesis": str(template.hypothesis),
        "expected_effect": str(template.expected_effect),
        "targeting": dict(template.targeting),
        "variants": [
            {
                "key": v.key,
                "name": str(v.name),
                "weight": v.weight,
                "is_control": v.is_control,
                "payload": dict(v.payload),
            }
            for v in template.variants
        ],
        "metrics": metrics,
        "analysis_plan": dict(template.analysis_plan),
        "planned_duration_days": template.planned_duration_days,
    }
    missing = tuple(key for key in wanted if key not in present)
    return TemplateDesign(template=template, data=data, missing_metrics=missing)
