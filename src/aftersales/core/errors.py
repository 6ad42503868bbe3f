"""Domain errors: each has an HTTP status, a stable code and a translated message."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message=None, *, field: str | None = None):
        self.message = message or _("The request is not valid.")
        self.field = field
        super().__init__(str(self.message))


class IllegalTransition(DomainError):
    status = 409
    code = "illegal_transition"


class StaleObject(DomainError):
    status = 409
    code = "stale"

    def __init__(self, message=None, *, field=None):
        super().__init__(message or _("Someone else changed this record. Reload it and try again."), field=field)
