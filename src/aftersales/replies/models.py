"""Issue 25 §7: canned replies for the desk (常用回复).

A reply belongs to a branch, or to every branch when `branch` is empty (managed by the general manager and the
administrator). Its body may carry placeholders, e.g. {单号} or {到场时限}: replies/placeholders.py lists them and
expands them for one service request. The reply and comment forms of a request page offer the replies of the
request's branch and the all-branch ones; `used_count` counts how often one was inserted."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aftersales.core.models import TimeStampedModel


class CannedReply(TimeStampedModel):
    branch = models.ForeignKey("accounts.Branch", models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("branch"), db_index=False,  # the (branch, active, title) index
                               help_text=_("Empty: offered in every branch."))
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("text"), help_text=_("Placeholders such as {单号} are filled in for the request."))
    active = models.BooleanField(_("in use"), default=True)
    used_count = models.PositiveIntegerField(_("times used"), default=0, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                   editable=False, verbose_name=_("created by"))
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_customer = None  # staff only
    scope_branch = "branch_id"

    class Meta:
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["title", "pk"]
        constraints = [
            models.CheckConstraint(name="cannedreply_title_not_blank", condition=~Q(title="")),
            models.CheckConstraint(name="cannedreply_body_not_blank", condition=~Q(body="")),
        ]
        indexes = [models.Index(fields=["branch", "active", "title"], name="cannedreply_branch_active")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("replies:edit", args=[self.pk])
