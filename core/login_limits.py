"""Failed web logins are limited by django-axes; this backend applies its checks to web logins.

django-axes needs the request to count and lock out; an ``authenticate`` call without one
(a management command, the test client's ``login``) is not a web login, so it is passed on to
the next backend unchecked rather than refused.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend


class LoginLimitBackend(AxesStandaloneBackend):
    def authenticate(self, request: Any, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)
