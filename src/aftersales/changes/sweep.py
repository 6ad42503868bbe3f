"""LOG-3: an unanswered change notice warns the desk like an SLA target, in two steps, each exactly once:

- "due soon" at `warn_at` (deadlines.due_soon_at, an hour before the answer is due): the desk of the branch;
- "overdue" at `answer_due_at`: the desk and the department managers of the branch.

The rows record what is due (stored times, partial indexes: answered notices cost nothing). Any number of workers may
sweep at once: each notice is claimed by a conditional UPDATE (… WHERE warned_at IS NULL AND warn_at <= now AND the
notice still awaits our answer), and only the worker whose UPDATE changed the row writes the outbox messages, in the
same transaction as its claim. A notice first seen after its deadline (a worker was down) gets the overdue warning
only: a "due soon" after the miss is noise, so the overdue claim marks the due-soon step done as well.

The sweep also closes answered notices once their window has ended."""

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import translation
from django.utils.translation import gettext as _

from aftersales.accounts.models import Position
from aftersales.core import clock
from aftersales.notify import services as notify
from aftersales.service import notices

from .models import OPEN_STATES, ChangeNotice, NoticeState
from .services import local

BATCH = 100  # notices claimed per transaction


def due_soon_ids(*, now, limit: int = 1000) -> list[int]:
    return list(ChangeNotice.objects.filter(state__in=OPEN_STATES, warned_at__isnull=True, warn_at__lte=now)
                .order_by("warn_at", "pk").values_list("pk", flat=True)[:limit])


def overdue_ids(*, now, limit: int = 1000) -> list[int]:
    return list(ChangeNotice.objects.filter(state__in=OPEN_STATES, overdue_at__isnull=True, answer_due_at__lte=now)
                .order_by("answer_due_at", "pk").values_list("pk", flat=True)[:limit])


@transaction.atomic
def fire_overdue(ids, *, now) -> list[int]:
    """Claim each notice's overdue step (compare-and-set) and tell the desk and the managers of those claimed here."""
    claimed = [pk for pk in ids if ChangeNotice.objects.filter(
        pk=pk, state__in=OPEN_STATES, overdue_at__isnull=True, answer_due_at__lte=now).update(
        overdue_at=now, warned_at=Coalesce(F("warned_at"), now))]
    messages = []
    for notice in _notices(claimed):
        messages.append(notify.Message(
            event="change_notice_overdue", about=notice, url=notices.url_of(notice),
            recipients=_active(notices.desk(notice) + notices.holders_of(Position.DEPARTMENT_MANAGER, notice)),
            subject=_("%(number)s: the answer to %(customer)s's change notice is overdue") % {
                "number": notice.number, "customer": notice.customer.name},
            body=_("“%(title)s”: our answer was due at %(due)s; the window starts at %(start)s.") % {
                "title": notice.title, "due": local(notice.answer_due_at), "start": local(notice.window_starts_at)},
            dedupe_key=f"change-overdue-{notice.pk}"))
    notify.enqueue_many(messages)
    return claimed


@transaction.atomic
def fire_due_soon(ids, *, now) -> list[int]:
    """Claim each notice's due-soon step (compare-and-set) and tell the desk of those claimed here."""
    claimed = [pk for pk in ids if ChangeNotice.objects.filter(
        pk=pk, state__in=OPEN_STATES, warned_at__isnull=True, warn_at__lte=now).update(warned_at=now)]
    messages = []
    for notice in _notices(claimed):
        messages.append(notify.Message(
            event="change_notice_due_soon", about=notice, url=notices.url_of(notice), recipients=_active(
                notices.desk(notice)),
            subject=_("%(number)s: answer %(customer)s's change notice by %(due)s") % {
                "number": notice.number, "customer": notice.customer.name, "due": local(notice.answer_due_at)},
            body=_("“%(title)s”: the window starts at %(start)s.") % {
                "title": notice.title, "start": local(notice.window_starts_at)},
            dedupe_key=f"change-due-soon-{notice.pk}"))
    notify.enqueue_many(messages)
    return claimed


def close_past_windows(*, now) -> int:
    """Answered notices whose window has ended are closed (one UPDATE; nobody is told)."""
    return ChangeNotice.objects.filter(state=NoticeState.ANSWERED, window_ends_at__lte=now).update(
        state=NoticeState.CLOSED, closed_at=now, version=F("version") + 1)


def _notices(ids) -> list[ChangeNotice]:
    if not ids:
        return []
    return list(ChangeNotice.objects.filter(pk__in=ids).select_related("customer").order_by("pk"))


def _active(users) -> list:
    return list({user.pk: user for user in users if user is not None and user.is_active}.values())


def sweep(*, now=None) -> dict:
    """The minute task: overdue first (so a late worker does not also say "due soon"), then due soon, then closing.
    Returns how many notices each step claimed here."""
    now = now or clock.now()
    fired = {"overdue": 0, "due_soon": 0}
    with translation.override(settings.LANGUAGE_CODE):  # the worker's messages in the site's language
        for step, read, fire in (("overdue", overdue_ids, fire_overdue), ("due_soon", due_soon_ids, fire_due_soon)):
            ids = read(now=now)
            for start in range(0, len(ids), BATCH):
                fired[step] += len(fire(ids[start:start + BATCH], now=now))
    fired["closed"] = close_past_windows(now=now)
    return fired
