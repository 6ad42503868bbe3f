"""What can go wrong with an import, each a DomainError (a form error on the page, a 400/409 in the API)."""

from django.utils.translation import gettext as _

from aftersales.core.errors import DomainError


class ImportFileError(DomainError):
    """The file as a whole cannot be imported (type, size, header)."""

    code = "invalid_file"


class RowErrors(DomainError):
    """At least one row has an error: nothing was written."""

    code = "invalid_rows"

    def __init__(self, plan):
        self.plan = plan
        super().__init__(
            _("Nothing was written: %(count)d rows have errors. Correct them and upload the file again.")
            % {"count": plan.counts["error"]}
        )


class PlanChanged(DomainError):
    """The registry changed between preview and confirm: nothing was written."""

    status = 409
    code = "plan_changed"

    def __init__(self, plan):
        self.plan = plan
        super().__init__(_("The registry changed since the preview, so nothing was written. Check the rows again."))


class ImportConflict(DomainError):
    status = 409
    code = "conflict"


class StashExpired(DomainError):
    code = "stash_expired"

    def __init__(self):
        super().__init__(_("This upload has expired or is not yours. Upload the file again."))
