"""§4: a spare unit not back when due, and a unit at the manufacturer past its expected return, are not only listed:
the desk of the case's branch is told, and for a loan the customer's contacts too, on the first day overdue and again
every week until it is back. Each reminder is keyed by (row, due date, week overdue), so it fires once however often
the job runs and on however many workers, and a new due date (an extended loan, a corrected RMA) brings its own."""

from collections import defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.notify import services as notify
from aftersales.service import notices

from .models import Loan, VendorRma

REMIND_EVERY_DAYS = 7


def week_overdue(due, today) -> int:
    return (today - due).days // REMIND_EVERY_DAYS  # 0 on days 1-7 overdue, 1 on days 8-14 …


def customer_users(customer_ids) -> dict[int, list]:
    """The active users of each customer, in one query for all of them."""
    users = defaultdict(list)
    for user in get_user_model().objects.filter(customer_id__in=customer_ids, is_active=True).order_by("pk"):
        users[user.customer_id].append(user)
    return users


def messages_due(today) -> list:
    messages = []
    loans = list(Loan.objects.filter(returned_at__isnull=True, due_back_on__lt=today)
                 .select_related("case__device").order_by("due_back_on", "pk"))
    contacts = customer_users({loan.case.customer_id for loan in loans})
    for loan in loans:
        case = loan.case
        subject = _("%(number)s: the spare unit %(serial)s was due back on %(due)s") % {
            "number": case.number, "serial": loan.unit_serial, "due": loan.due_back_on.isoformat()}
        body = _("The spare unit %(model)s %(serial)s lent while %(device)s is repaired is %(days)s days overdue.") % {
            "model": loan.unit_model, "serial": loan.unit_serial, "device": case.device.name,
            "days": (today - loan.due_back_on).days}
        messages.append(notify.Message(
            event="loan_overdue", about=case, subject=subject, body=body, url=loan.get_absolute_url(),
            recipients=notices.desk(case) + contacts[case.customer_id],
            dedupe_key=f"loan-overdue-{loan.pk}-{loan.due_back_on}-{week_overdue(loan.due_back_on, today)}"))
    rmas = (VendorRma.objects.filter(returned_on__isnull=True, expected_back_on__lt=today)
            .select_related("case__device").order_by("expected_back_on", "pk"))
    for rma in rmas:
        case = rma.case
        subject = _("%(number)s: RMA %(rma)s was expected back on %(due)s") % {
            "number": case.number, "rma": rma.rma_number, "due": rma.expected_back_on.isoformat()}
        body = _("%(device)s is at %(vendor)s, %(days)s days later than expected. Ask the manufacturer.") % {
            "device": case.device.name, "vendor": rma.vendor, "days": (today - rma.expected_back_on).days}
        messages.append(notify.Message(
            event="rma_overdue", about=case, subject=subject, body=body, url=case.get_absolute_url(),
            recipients=notices.desk(case),
            dedupe_key=f"rma-overdue-{rma.pk}-{rma.expected_back_on}-{week_overdue(rma.expected_back_on, today)}"))
    return messages


def send_overdue_reminders(today=None) -> int:
    """Enqueue the reminders due today (the outbox drops a dedupe key it has seen). Returns how many were due."""
    today = today or clock.today()
    with translation.override(settings.LANGUAGE_CODE):  # the worker's messages in the site's language
        messages = messages_due(today)
    notify.enqueue_many(messages)
    return len(messages)
