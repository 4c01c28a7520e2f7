from __future__ import annotations


class ValidationFailed(Exception):
    """Input or state that breaks a rule: ``errors`` maps a field path to its messages.

    The API turns it into HTTP 400 with the same mapping; forms show it next to the fields.
    """

    def __init__(self, errors: dict[str, list[str]] | str):
        if isinstance(errors, str):
            errors = {"non_field_errors": [errors]}
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


class TransitionNotAllowed(ValidationFailed):
    """A lifecycle action that the experiment's current status does not allow."""


class ServiceUnavailable(Exception):
    """A service this request needs (the task broker, ...) cannot be reached right now.

    The API answers 503 with ``{field: [message]}`` and ``Retry-After``; nothing was done.
    """

    def __init__(self, field: str, message: str, retry_after: int = 30):
        self.errors = {field: [message]}
        self.retry_after = retry_after
        super().__init__(message)
