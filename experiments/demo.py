"""Demo definitions: a metrics library and three experiments an operations team would run."""

from __future__ import annotations

from typing import Any

METRICS: list[dict[str, Any]] = [
    {
        "key": "paid_conversion",
        "name": "Paid conversion",
        "description": "Share of exposed users who make a purchase within 7 days.",
        "type": "conversion",
        "event": "purchase",
        "window_hours": 168,
    },
    {
        "key": "arpu",
        "name": "Revenue per user (ARPU)",
        "description": "Revenue per exposed user within 7 days, users without purchases count 0.",
        "type": "mean",
        "event": "purchase",
        "value_field": "revenue",
        "window_hours": 168,
        "winsorize_percentile": 99.0,
    },
    {
        "key": "aov",
        "name": "Average order value",
        "description": "Revenue per order among exposed users.",
        "type": "ratio",
        "numerator": {"event": "purchase", "value_field": "revenue"},
        "denominator": {"event": "purchase", "value_field": None},
        "window_hours": 168,
    },
    {
        "key": "d1_retention",
        "name": "D1 retention",
        "description": "Share of users who open the app on the day after exposure.",
        "type": "retention",
        "event": "app_open",
        "retention_day": 1,
    },
    {
        "key": "d7_retention",
        "name": "D7 retention",
        "description": "Share of users who open the app on day 7 after exposure.",
        "type": "retention",
        "event": "app_open",
        "retention_day": 7,
    },
    {
        "key": "coupon_redemption",
        "name": "Coupon redemption",
        "description": "Share of exposed users who redeem a coupon within 3 days.",
        "type": "conversion",
        "event": "coupon_redeemed",
        "window_hours": 72,
    },
    {
        "key": "refund_rate",
        "name": "Refund rate",
        "description": "Share of exposed users who ask for a refund within 7 days (guardrail).",
        "type": "conversion",
        "event": "refund",
        "window_hours": 168,
        "higher_is_better": False,
    },
]

EXPERIMENTS: list[dict[str, Any]] = [
    {
        "key": "pricing-pro-tier",
        "name": "Pro tier price: 29 vs 39 per month",
        "hypothesis": "A lower Pro price raises paid conversion enough to lift ARPU.",
        "kind": "pricing",
        "unit_attribute": "user_id",
        "targeting": {"country": {"$in": ["CN", "SG"]}},
        "variants": [
            {
                "key": "free",
                "name": "Free only",
                "weight": 1,
                "is_control": True,
                "payload": {"plan": "free"},
            },
            {
                "key": "pro",
                "name": "Pro at 29",
                "weight": 1,
                "payload": {"plan": "pro", "monthly_price": 29},
            },
            {
                "key": "premium",
                "name": "Premium at 59",
                "weight": 1,
                "payload": {"plan": "premium", "monthly_price": 59},
            },
        ],
        "metrics": [
            {"metric": "paid_conversion", "role": "primary"},
            {"metric": "arpu", "role": "secondary"},
            {"metric": "aov", "role": "secondary"},
            {"metric": "refund_rate", "role": "guardrail"},
        ],
        "analysis_plan": {
            "alpha": 0.05,
            "method": "frequentist",
            "correction": "holm",
            "cuped": True,
            "mde": 0.05,
        },
        "start": True,
    },
    {
        "key": "onboarding-checklist",
        "name": "New-user checklist instead of the tour",
        "hypothesis": "A checklist brings more new users back on day 1 than the guided tour.",
        "kind": "onboarding",
        "targeting": {"is_new_user": True},
        "variants": [
            {
                "key": "tour",
                "name": "Guided tour",
                "weight": 1,
                "is_control": True,
                "payload": {"flow": "tour"},
            },
            {
                "key": "checklist",
                "name": "Checklist",
                "weight": 1,
                "payload": {"flow": "checklist"},
            },
        ],
        "metrics": [
            {"metric": "d1_retention", "role": "primary"},
            {"metric": "d7_retention", "role": "secondary"},
        ],
        "analysis_plan": {
            "alpha": 0.05,
            "method": "sequential",
            "correction": "none",
            "cuped": False,
            "mde": 0.03,
        },
        "start": True,
    },
    {
        "key": "new-user-coupon",
        "name": "New-member red packet: 10 off the first order",
        "hypothesis": "A first-order coupon raises paid conversion without hurting refunds.",
        "kind": "promotion",
        "coverage": 0.5,
        "targeting": {"is_new_user": True, "platform": {"$in": ["ios", "android"]}},
        "variants": [
            {"key": "none", "name": "No coupon", "weight": 1, "is_control": True, "payload": {}},
            {
                "key": "new10",
                "name": "10 off first order",
                "weight": 1,
                "payload": {"coupon": "NEW10", "min_spend": 50, "discount": 10},
            },
        ],
        "metrics": [
            {"metric": "coupon_redemption", "role": "primary"},
            {"metric": "paid_conversion", "role": "secondary"},
            {"metric": "refund_rate", "role": "guardrail"},
        ],
        "analysis_plan": {
            "alpha": 0.05,
            "method": "bayesian",
            "correction": "none",
            "cuped": False,
            "mde": 0.1,
        },
        "start": False,
    },
]
