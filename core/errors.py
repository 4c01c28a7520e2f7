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
