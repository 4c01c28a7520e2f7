"""Demo definitions: a metrics library and the experiments an operations team would run."""

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
        "display_format": "currency",
        "currency": "CNY",
    },
    {
        "key": "aov",
        "name": "Average order value",
        "description": "Revenue per order among exposed users.",
        "type": "ratio",
        "numerator": {"event": "purchase", "value_field": "revenue"},
        "denominator": {"event": "purchase", "value_field": None},
        "window_hours": 168,
        "display_format": "currency",
        "currency": "CNY",
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
    {
        "key": "net_revenue",
        "name": "Net revenue per user",
        "description": "Revenue after first-order discounts per exposed user within 7 days.",
        "type": "mean",
        "event": "purchase",
        "value_field": "net_revenue",
        "window_hours": 168,
        "display_format": "currency",
        "currency": "CNY",
    },
    {
        "key": "coupon_cost",
        "name": "Coupon cost per user",
        "description": "Discounts redeemed per exposed user within 7 days (the promotion's cost).",
        "type": "mean",
        "event": "coupon_redeemed",
        "value_field": "value",
        "window_hours": 168,
        "higher_is_better": False,
        "display_format": "currency",
        "currency": "CNY",
    },
    {
        "key": "repurchase_rate",
        "name": "Repurchase rate (复购率)",
        "description": "Share of buyers who buy at least twice within 7 days of exposure.",
        "type": "count_threshold",
        "event": "purchase",
        "min_events": 2,
        "among_converted": True,
        "window_hours": 168,
    },
    {
        "key": "arppu",
        "name": "Revenue per paying user (ARPPU)",
        "description": "Revenue within 7 days per exposed user who paid anything.",
        "type": "conditional_mean",
        "event": "purchase",
        "value_field": "revenue",
        "window_hours": 168,
        "display_format": "currency",
        "currency": "CNY",
    },
]

EXPERIMENTS: list[dict[str, Any]] = [
    {
        "key": "pricing-pro-tier",
        "name": "Pro tier price: 29 vs 39 per month",
        "hypothesis": (
            "At 39 a month instead of 29, fewer users upgrade to Pro, but revenue per user rises."
        ),
        "expected_effect": "-10% paid conversion, +8% revenue per user",
        "kind": "pricing",
        "unit_attribute": "user_id",
        "targeting": {"country": {"$in": ["CN", "SG"]}},
        "variants": [
            {
                "key": "pro29",
                "name": "Pro at 29",
                "weight": 1,
                "is_control": True,
                "payload": {"plans": {"free": 0, "pro": 29, "premium": 59}},
            },
            {
                "key": "pro39",
                "name": "Pro at 39",
                "weight": 1,
                "payload": {"plans": {"free": 0, "pro": 39, "premium": 59}},
            },
        ],
        "metrics": [
            # A price test is judged on revenue per user: the lower conversion is the price of
            # the higher revenue, shown beside it.
            {"metric": "arpu", "role": "primary"},
            {"metric": "paid_conversion", "role": "secondary"},
            {"metric": "aov", "role": "secondary"},
            {"metric": "refund_rate", "role": "guardrail"},
        ],
        "analysis_plan": {
            "alpha": 0.05,
            "method": "frequentist",
            "correction": "holm",
            "cuped": True,
            "mde": 0.05,
            # Does the higher price lose recent buyers, or the big spenders? Segments from
            # each user's purchases in the 30 days before they saw the price.
            "history_segments": {
                "kinds": ["new_vs_returning", "spend_tier"],
                "days": 30,
                "value_event": "purchase",
                "value_field": "revenue",
            },
        },
        "start": True,
    },
    {
        "key": "onboarding-checklist",
        "name": "New-user checklist instead of the tour",
        "hypothesis": "A checklist brings more new users back a week later than the guided tour.",
        "expected_effect": "+2 points of D7 retention",
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
            {"metric": "d7_retention", "role": "primary"},
            {"metric": "d1_retention", "role": "secondary"},
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
        "name": "New-member red packet: NEW10, 10 off the first order",
        "hypothesis": (
            "A first-order coupon (首单奖励) raises first-order conversion enough to pay for "
            "itself in net revenue, without hurting refunds."
        ),
        "expected_effect": "+25% first-order conversion, -12% order value",
        "kind": "promotion",
        "coverage": 0.8,
        "targeting": {"is_new_user": True, "platform": {"$in": ["ios", "android"]}},
        "variants": [
            {"key": "none", "name": "No coupon", "weight": 1, "is_control": True, "payload": {}},
            {
                "key": "new10",
                "name": "NEW10: 10 off the first order",
                "weight": 1,
                "payload": {"coupon": "NEW10", "min_spend": 50, "discount": 10},
            },
        ],
        "metrics": [
            {"metric": "paid_conversion", "role": "primary"},
            {"metric": "aov", "role": "secondary"},
            {"metric": "arppu", "role": "secondary"},
            {"metric": "repurchase_rate", "role": "secondary"},
            {"metric": "net_revenue", "role": "secondary"},
            {"metric": "coupon_cost", "role": "secondary"},
            {"metric": "refund_rate", "role": "guardrail"},
        ],
        "analysis_plan": {
            "alpha": 0.05,
            "method": "bayesian",
            "correction": "none",
            "cuped": False,
            "mde": 0.1,
        },
        "start": True,
    },
    {
        "key": "checkout-aa",
        "name": "A/A check: the same checkout in both arms",
        "hypothesis": "Both arms see the same checkout, so no metric should differ.",
        "kind": "other",
        "variants": [
            {"key": "a", "name": "A", "weight": 1, "is_control": True, "payload": {}},
            {"key": "b", "name": "A (copy)", "weight": 1, "payload": {}},
        ],
        "metrics": [
            {"metric": "paid_conversion", "role": "primary"},
            {"metric": "arpu", "role": "secondary"},
        ],
        "analysis_plan": {
            "alpha": 0.05,
            "method": "frequentist",
            "correction": "none",
            "cuped": False,
            "mde": 0.1,
        },
        "start": True,
    },
    {
        "key": "express-checkout",
        "name": "One-tap payment at checkout",
        "hypothesis": "Paying with one tap instead of the payment form lifts paid conversion.",
        "expected_effect": "+3% paid conversion",
        "kind": "other",
        "variants": [
            {"key": "form", "name": "Payment form", "weight": 1, "is_control": True, "payload": {}},
            {
                "key": "one_tap",
                "name": "One-tap payment",
                "weight": 1,
                "payload": {"checkout": "one_tap"},
            },
        ],
        "metrics": [
            {"metric": "paid_conversion", "role": "primary"},
            {"metric": "refund_rate", "role": "guardrail", "harm_threshold": 0.2},
        ],
        "analysis_plan": {
            "alpha": 0.05,
            "method": "frequentist",
            "correction": "none",
            "cuped": False,
            "mde": 0.05,
            "guardrail_auto_pause": True,
        },
        "start": True,
    },
    {
        "key": "annual-plan-discount",
        "name": "Annual Pro plan: two months free",
        "hypothesis": "Offering 12 months for the price of 10 moves monthly Pro users to annual.",
        "kind": "pricing",
        "targeting": {"country": {"$in": ["CN", "SG"]}},
        "variants": [
            {
                "key": "monthly",
                "name": "Monthly only",
                "weight": 1,
                "is_control": True,
                "payload": {"annual": False},
            },
            {
                "key": "annual",
                "name": "Annual at 290",
                "weight": 1,
                "payload": {"annual": True, "annual_price": 290},
            },
        ],
        "metrics": [
            {"metric": "paid_conversion", "role": "primary"},
            {"metric": "refund_rate", "role": "guardrail"},
        ],
        "analysis_plan": {
            "alpha": 0.05,
            "method": "frequentist",
            "correction": "none",
            "cuped": False,
            "mde": 0.05,
        },
        "start": False,
    },
]

# Simulated traffic for each demo experiment with traffic (analysis/simulation has the
# scenarios): enough users for more than 100,000 exposures each after targeting and coverage,
# arriving over ``TRAFFIC_DAYS`` (or, with "days", over the experiment's first days only).
TRAFFIC: dict[str, dict[str, int]] = {
    "pricing-pro-tier": {"users": 115_000, "seed": 11},
    "onboarding-checklist": {"users": 115_000, "seed": 12},
    "new-user-coupon": {"users": 150_000, "seed": 13},
    "checkout-aa": {"users": 104_000, "seed": 14},
    "express-checkout": {"users": 106_000, "seed": 15, "days": 1},
}
TRAFFIC_DAYS = 21

# What happens after the traffic: the onboarding test was stopped and concluded, with its
# readout (复盘) written; the express checkout runs until the guardrail breaker pauses it.
CONCLUDED: dict[str, dict[str, str]] = {
    "onboarding-checklist": {
        "decision": "ship",
        "winner": "checklist",
        "review": "D7 retention rose by about two points with the checklist; D1 did not move.",
        "learnings": (
            "复盘: the checklist brought about two more new users in a hundred back on day 7, "
            "as planned, and day 1 did not change: the gain comes from users who finish the "
            "checklist's later steps. Next: ship the checklist to all new users, and test "
            "a shorter checklist (3 steps instead of 5) to see whether day 1 moves too."
        ),
    },
}
