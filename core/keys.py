"""Keys: the stable, public names of experiments, metrics and layers (letters, digits, dashes and
underscores, at most 64 characters, as the API's slug fields accept).

``key_from_name`` is the one place a key is made from a name, for the console's forms and
anything else that proposes a key. A name with no Latin letters or digits (``"测试 定价"``)
gives no key: the person types one.
"""

from __future__ import annotations

from django.utils.text import slugify

KEY_MAX_LENGTH = 64
KEY_EXAMPLE = "pricing-test"


def key_from_name(name: str, *, max_length: int = KEY_MAX_LENGTH) -> str:
    """The key a name suggests (``"Pro tier price"`` -> ``"pro-tier-price"``, accents dropped),
    or ``""`` when the name has nothing a key can use."""
    return slugify(name)[:max_length].strip("-_")
