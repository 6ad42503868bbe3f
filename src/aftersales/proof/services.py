"""Issue 24 §4: the verbs of the monthly proof of service.

`generate` makes version 1 of a (customer, month) — the monthly worker's verb, safe to run twice or on every worker
at once: the unique (customer, year, month, version) row is the claim, and only the caller whose row went in writes
the PDF and the outbox messages. `regenerate` is staff's: a new version of a month, the old ones kept.

The facts and the PDF are made before the write transaction (a render takes about a second, and on SQLite a write
transaction holds the one write lock); the row, its PDF file and the outbox messages are then written in one
transaction. A render that loses the race is dropped.

Whose scope: the customer's first active contact (by id) — the report shows what that contact sees in the portal.
A customer without any active contact gets a report built with that customer's own Scope value (facts.scope_for),
kept for the portal; nobody is mailed.
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import translation
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError, StaleObject
from aftersales.notify import services as notify
from aftersales.printing import pdf as printing
from aftersales.service.reports import Period

from . import facts as proof_facts
from . import present
from .models import MonthlyReport

logger = logging.getLogger(__name__)

EVENT = "monthly_report"
REGENERATE = "proof.regenerate_monthlyreport"
# References listed per cell in the PDF; the request table and evidence.json list every row (present.shown).
PDF_REFS_SHOWN = 40


def contacts_of(customer) -> list:
    """The customer's active contacts (users with this customer), first one first."""
    return list(get_user_model().objects.filter(customer_id=customer.pk, is_active=True).order_by("pk"))


def previous_month(today) -> tuple[int, int]:
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


def check_month(year: int, month: int) -> None:
    if not 1 <= month <= 12:
        raise DomainError(_("Choose a month from 1 to 12."), field="month")
    first_of_this_month = clock.today().replace(day=1)
    if (year, month) >= (first_of_this_month.year, first_of_this_month.month):
        raise DomainError(_("Only a month that has ended can be reported."), field="month")
    if year < 2000:
        raise DomainError(_("Choose a year from 2000 on."), field="year")


def render_pdf(customer, year: int, month: int, version: int, facts: dict) -> printing.Pdf | None:
    """The PDF with its evidence attached (PDF/A-3b); None where this machine cannot render (Pango missing): the
    report is still kept, its web version complete."""
    filename = f"proof-{customer.pk}-{year}-{month:02d}-v{version}.pdf"
    try:
        with translation.override("zh-hans"):  # the figure labels are lazy: in Chinese, like the rest of the PDF
            return printing.render("proof/report_pdf.html", {"customer": customer, "version": version,
                                                              **present.context(facts, refs_shown=PDF_REFS_SHOWN)},
                                   facts=facts, filename=filename, attach_evidence=True)
    except printing.RendererUnavailable as error:
        logger.warning("monthly report of customer %s %s-%02d kept without its PDF: %s", customer.pk, year, month, error)
        return None


def prepare(customer, year: int, month: int, version: int):
    contacts = contacts_of(customer)
    contact = contacts[0] if contacts else None
    facts = proof_facts.build(customer, Period.month(year, month), contact)
    return contacts, contact, facts, render_pdf(customer, year, month, version, facts)


def write(customer, year, month, version, *, by, contacts, contact, facts, pdf) -> MonthlyReport:
    """Inside the caller's transaction: the row (IntegrityError if the version exists), the file, the messages."""
    now = clock.now()
    with transaction.atomic():  # a savepoint: a lost race leaves the caller's transaction usable
        report = MonthlyReport.objects.create(
            customer=customer, year=year, month=month, version=version, generated_at=now, generated_by=by,
            scope_user=contact, facts=facts, digest=pdf.digest if pdf else printing.digest_of(facts))
    if pdf is not None:
        report.pdf.save(pdf.filename, ContentFile(pdf.content), save=False)
    deliver(report, contacts, now=now)
    report.save(update_fields=["pdf", "delivered_at", "recipients"])
    return report


def deliver(report: MonthlyReport, contacts: list, *, now) -> None:
    """The outbox messages to the customer's contacts, with the portal link (the outbox carries no attachments: the
    PDF is downloaded from the report's page, behind the login)."""
    if not contacts:
        logger.info("monthly report %s: customer %s has no active contact, kept for the portal only",
                    report.pk, report.customer_id)
        return
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Service report for %(month)s: %(customer)s") % {"month": report.label,
                                                                      "customer": report.customer.name}
        if report.version > 1:
            subject = _("%(subject)s (version %(version)s)") % {"subject": subject, "version": report.version}
        counts = report.facts["requests"]["figures"]
        body = _("The proof of service of %(month)s: %(opened)s requests opened, %(resolved)s resolved. "
                 "Every figure links to its records; the PDF carries them as evidence.") % {
            "month": report.label, "opened": counts["opened"]["n"], "resolved": counts["resolved"]["n"]}
    notify.enqueue(event=EVENT, about=report, subject=subject, body=body, recipients=contacts,
                   url=report.get_absolute_url(), dedupe_key=f"proof-{report.pk}")
    report.delivered_at, report.recipients = now, [user.pk for user in contacts]


def generate(customer, year: int, month: int, *, by=None) -> MonthlyReport | None:
    """Version 1 of the month. None when it exists already (another run or worker made it): nothing is written."""
    if MonthlyReport.objects.filter(customer=customer, year=year, month=month, version=1).exists():
        return None
    contacts, contact, facts, pdf = prepare(customer, year, month, 1)
    try:
        with transaction.atomic():
            return write(customer, year, month, 1, by=by, contacts=contacts, contact=contact, facts=facts, pdf=pdf)
    except IntegrityError:
        if MonthlyReport.objects.filter(customer=customer, year=year, month=month, version=1).exists():
            return None  # the race was lost: the winner delivers
        raise


def regenerate(customer, year: int, month: int, *, by) -> MonthlyReport:
    """Staff: the month again, as a new version (1 if none exists); the older versions are kept."""
    if by is None or not by.has_perm(REGENERATE) or getattr(by, "customer_id", None):
        raise PermissionDenied(_("You may not regenerate monthly reports."))
    check_month(year, month)
    latest = MonthlyReport.objects.filter(customer=customer, year=year, month=month).aggregate(v=Max("version"))["v"]
    version = (latest or 0) + 1
    contacts, contact, facts, pdf = prepare(customer, year, month, version)
    try:
        with transaction.atomic():
            return write(customer, year, month, version, by=by, contacts=contacts, contact=contact, facts=facts,
                         pdf=pdf)
    except IntegrityError:
        raise StaleObject(_("Someone else regenerated this month at the same time. Reload the page.")) from None


def active_customers(year: int, month: int):
    """Customers with a project in service during the month (no end date, or ending on or after its first day)."""
    from django.db.models import Q

    from aftersales.customers.models import Customer, Project

    first = Period.month(year, month).start.astimezone(clock.SHANGHAI).date()
    serving = Project.objects.filter(Q(service_ends_on__isnull=True) | Q(service_ends_on__gte=first))
    return Customer.objects.filter(pk__in=serving.values("customer_id")).order_by("pk")


def produce_last_month(today=None) -> list[int]:
    """The worker: last month's report of every active customer that has none yet. Returns the new reports' ids."""
    year, month = previous_month(today or clock.today())
    done = MonthlyReport.objects.filter(year=year, month=month, version=1).values("customer_id")
    made = []
    for customer in active_customers(year, month).exclude(pk__in=done):
        try:
            report = generate(customer, year, month)
        except Exception:  # one customer's failure must not stop the others; the next hourly run tries again
            logger.exception("monthly report of customer %s %s-%02d failed", customer.pk, year, month)
            continue
        if report is not None:
            made.append(report.pk)
    return made
