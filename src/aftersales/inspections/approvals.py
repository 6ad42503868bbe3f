"""INS-2 (issue 23 §2): the approval gate. Before a round of a plan that needs the customer's approval (the plan's
`needs_approval`: its rounds clean, maintain or replace), our side sends the customer's contacts a window (a date and
time range inside the round's period), what will be done (scope), the devices and the expected downtime. The customer
approves it — through a signed link that needs no account, or in the portal — or proposes another window; our side
(the desk, or the round's engineer) accepts that one, which agrees the window and approves the round, or answers with
another. Each proposal is a WindowProposal row (who, when, through what, how it was answered); each step is a line
of the round's timeline (RoundEvent). Until approved the round cannot start, except by the existing override with a
reason (services.override_approval).

Reminders: while our proposal waits for the customer, a reminder goes out once a day (at REMINDER_HOUR, Asia/Shanghai)
through the outbox, keyed by (round, request version, day): the sweep claims each due proposal with a conditional
UPDATE and the outbox's dedupe key makes a repeat add nothing, so any number of workers may run it. Answering,
overriding or the window passing stops them.

Links: signed (own salt), expiring (LINK_VALID_FOR) and single use: the token carries the proposal and its
`link_nonce`, which an answer clears. Bad token 404, expired or used 410, another customer's logged-in contact 403
(the service app's errors, reused)."""

import secrets
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.db.models import F, Max
from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition
from aftersales.core.plausible import implausible_message, is_plausible
from aftersales.service.confirmation import (
    LinkExpired,
    LinkNotValid,
    LinkUsed,
    check_recipient,
)

from . import services
from .models import (
    PROPOSAL_VIA,
    EventKind,
    InspectionRound,
    ProposalSide,
    ProposalState,
    RoundState,
    WindowProposal,
)

DO, OVERSEE = "inspections.do_rounds", "inspections.oversee_rounds"
LINK_SALT = "aftersales.inspections.approval-link"
LINK_VALID_FOR = timedelta(days=14)
INVITE_SALT = "aftersales.inspections.invite"
INVITE_VALID_FOR = timedelta(days=400)  # an invitation file a calendar program may fetch again until the round is over
REMINDER_HOUR = 9
MAX_DOWNTIME_MINUTES = 7 * 24 * 60
MAX_DEVICES_IN_MAIL = 20
EVENT = "inspection_notice"

VIA_DESK, VIA_PORTAL, VIA_LINK, VIA_API = "desk", "portal", "link", "api"

__all__ = [
    "LinkExpired",
    "LinkNotValid",
    "LinkUsed",
    "accept_window",
    "approval_url",
    "approve_window",
    "invite_url",
    "proposal_for_token",
    "propose_window",
    "round_for_invite",
    "send_reminders",
    "send_window",
]


class NotOurSide(DomainError):
    status = 403
    code = "not_allowed"


# ------------------------------------------------------------------------------------------------ links

def approval_token(proposal: WindowProposal) -> str:
    return signing.dumps({"p": proposal.pk, "n": proposal.link_nonce}, salt=LINK_SALT, compress=True)


def site(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def approval_url(proposal: WindowProposal) -> str:
    return site(reverse("inspections:approval_by_link", args=[approval_token(proposal)]))


def proposal_for_token(token: str, user, *, lock: bool = False) -> WindowProposal:
    """The open proposal of ours that a link answers, or the reason it cannot (LinkNotValid 404, LinkExpired and
    LinkUsed 410, LinkOfAnotherCustomer 403)."""
    try:
        payload = signing.loads(token, salt=LINK_SALT, max_age=LINK_VALID_FOR)
    except signing.SignatureExpired:
        raise LinkExpired(_("This approval link has expired. Please approve in the customer portal, or ask us for a "
                            "new link.")) from None
    except signing.BadSignature:
        raise LinkNotValid(_("This approval link is not valid.")) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("p"), int):
        raise LinkNotValid(_("This approval link is not valid."))
    proposals = WindowProposal.objects.select_related("round__plan", "round__project", "round__engineer")
    if lock:
        proposals = proposals.select_for_update(of=("self",))
    proposal = proposals.filter(pk=payload["p"]).first()
    if proposal is None:
        raise LinkNotValid(_("This approval link is not valid."))
    check_recipient(user, proposal.customer_id)
    if proposal.state != ProposalState.OPEN or not proposal.link_nonce or proposal.link_nonce != payload.get("n") \
            or proposal.round.state != RoundState.AWAITING_APPROVAL:
        raise LinkUsed(_("This approval link has already been used, or the window was changed since. Please use the "
                         "latest link we sent, or the customer portal."))
    return proposal


def invite_token(round_: InspectionRound) -> str:
    return signing.dumps({"r": round_.pk}, salt=INVITE_SALT, compress=True)


def invite_url(round_: InspectionRound) -> str:
    return site(reverse("inspections:invite_by_link", args=[invite_token(round_)]))


def round_for_invite(token: str, user) -> InspectionRound:
    """The round of a calendar invitation link (read-only, not single use: a calendar program fetches it again)."""
    try:
        payload = signing.loads(token, salt=INVITE_SALT, max_age=INVITE_VALID_FOR)
    except signing.SignatureExpired:
        raise LinkExpired(_("This calendar link has expired.")) from None
    except signing.BadSignature:
        raise LinkNotValid(_("This calendar link is not valid.")) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("r"), int):
        raise LinkNotValid(_("This calendar link is not valid."))
    round_ = InspectionRound.objects.select_related("plan", "project", "engineer").filter(pk=payload["r"]).first()
    if round_ is None:
        raise LinkNotValid(_("This calendar link is not valid."))
    check_recipient(user, round_.customer_id)
    return round_


# ------------------------------------------------------------------------------------------------ building blocks

def local(moment: datetime) -> datetime:
    return moment.astimezone(clock.SHANGHAI)


def window_label(starts_at: datetime, ends_at: datetime) -> str:
    """2026-12-03 09:00–12:00, or 2026-12-03 09:00 – 2026-12-04 12:00 (Asia/Shanghai)."""
    start, end = local(starts_at), local(ends_at)
    if start.date() == end.date():
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"


def next_reminder(now: datetime) -> datetime:
    """The next day's reminder time (Asia/Shanghai)."""
    day = local(now).date() + timedelta(days=1)
    return datetime.combine(day, time(REMINDER_HOUR), tzinfo=clock.SHANGHAI)


def on_our_side(user, round_) -> bool:
    """The desk and managers of the round's branch (oversee_rounds), or the round's own engineer."""
    if user is None or not user.is_authenticated or user.customer_id:
        return False
    return user.has_perm(OVERSEE) or (user.has_perm(DO) and round_.engineer_id == user.pk)


def on_customer_side(user, round_) -> bool:
    return bool(user is not None and user.is_authenticated and user.customer_id == round_.customer_id)


def _actor(by):
    return by if by is not None and by.is_authenticated else None


def _aware(value: datetime | None, field: str) -> datetime:
    if value is None:
        raise DomainError(_("Give the window's start and end."), field=field)
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.SHANGHAI)
    if not is_plausible(value):
        raise DomainError(implausible_message(), field=field)
    return value


def check_window(round_, starts_at, ends_at, *, now) -> tuple[datetime, datetime]:
    starts_at, ends_at = _aware(starts_at, "starts_at"), _aware(ends_at, "ends_at")
    if ends_at <= starts_at:
        raise DomainError(_("The window ends after it starts."), field="ends_at")
    if starts_at <= now:
        raise DomainError(_("The window has to start in the future."), field="starts_at")
    first, last = local(starts_at).date(), local(ends_at - timedelta(microseconds=1)).date()
    if first < round_.period_start or last > round_.window_end:
        raise DomainError(_("The window has to lie inside the round's period, %(start)s to %(end)s.")
                          % {"start": round_.period_start.isoformat(), "end": round_.window_end.isoformat()},
                          field="starts_at" if first < round_.period_start else "ends_at")
    return starts_at, ends_at


def _awaiting(round_) -> None:
    if round_.state != RoundState.AWAITING_APPROVAL:
        raise IllegalTransition(_("This round is not waiting for the customer's approval."))


def _named(by, name: str) -> str:
    """Someone without an account (the link) says who they are; a logged-in contact is their account."""
    name = (name or "").strip()[:100]
    if _actor(by) is None and not name:
        raise DomainError(_("Give your name."), field="name")
    return name


def _bump(round_) -> None:
    """The round's version moves with every step of the negotiation: the desk's form of before is stale (409)."""
    InspectionRound.objects.filter(pk=round_.pk).update(version=F("version") + 1)
    round_.version += 1


def _open_proposal(round_) -> WindowProposal | None:
    return round_.proposals.select_for_update().filter(state=ProposalState.OPEN).first()


def _close(proposal: WindowProposal, state: str, *, by, at, name: str = "", via: str = "") -> None:
    proposal.state, proposal.answered_at, proposal.answered_by = state, at, _actor(by)
    proposal.answered_by_name, proposal.answered_via = name, via
    proposal.link_nonce, proposal.next_reminder_at = "", None
    proposal.save(update_fields=["state", "answered_at", "answered_by", "answered_by_name", "answered_via",
                                 "link_nonce", "next_reminder_at"])


def _next_number(round_) -> int:
    return (round_.proposals.aggregate(n=Max("number"))["n"] or 0) + 1


def _window_data(proposal) -> dict:
    return {"proposal": proposal.number, "starts_at": proposal.starts_at.isoformat(),
            "ends_at": proposal.ends_at.isoformat()}


# ------------------------------------------------------------------------------------------------ who hears

def customer_contacts(round_) -> list:
    return list(get_user_model().objects.filter(customer_id=round_.customer_id, is_active=True).order_by("pk"))


def our_side(round_) -> list:
    """The desk and managers of the round's branch, and the round's engineer."""
    users = list(get_user_model().objects.filter(
        branch_id=round_.branch_id, customer__isnull=True, is_active=True,
        groups__permissions__codename="oversee_rounds",
        groups__permissions__content_type__app_label="inspections").distinct().order_by("pk"))
    if round_.engineer_id and round_.engineer_id not in {u.pk for u in users} and round_.engineer.is_active:
        users.append(round_.engineer)
    return users


def devices_line(round_) -> tuple[list[str], int]:
    devices = [device for device, _version in services.devices_to_check(round_.plan)]
    names = [f"{d.name} ({d.location})" if d.location else d.name for d in devices[:MAX_DEVICES_IN_MAIL]]
    return names, len(devices)


def describe(proposal: WindowProposal, round_) -> str:
    """The mail's text: the window, what will be done, the devices, the downtime."""
    names, total = devices_line(round_)
    devices = "\n".join(f"- {name}" for name in names)
    if total > len(names):
        devices += "\n" + _("… and %(n)s more") % {"n": total - len(names)}
    lines = [_("Project: %(project)s") % {"project": round_.project.name},
             _("Round: %(number)s %(plan)s") % {"number": round_.number, "plan": round_.plan.name},
             _("Window: %(window)s") % {"window": window_label(proposal.starts_at, proposal.ends_at)}]
    if proposal.scope:
        lines.append(_("Scope of work: %(scope)s") % {"scope": proposal.scope})
    if proposal.downtime_minutes is not None:
        lines.append(_("Expected downtime: %(minutes)s minutes") % {"minutes": proposal.downtime_minutes})
    if round_.engineer_id:
        lines.append(_("Engineer: %(name)s") % {"name": round_.engineer.display_name})
    lines.append(_("Devices (%(n)s):") % {"n": total})
    if devices:
        lines.append(devices)
    if proposal.note:
        lines.append(_("Note: %(note)s") % {"note": proposal.note})
    return "\n".join(lines)


def _notify(round_, recipients, *, subject: str, body: str, url: str, dedupe_key: str) -> None:
    from aftersales.notify import services as notify

    notify.enqueue(event=EVENT, about=round_, subject=subject, body=body, dedupe_key=dedupe_key,
                   recipients=recipients, url=url)


def _ask_customer(round_, proposal, *, dedupe_key: str, reminder: bool = False) -> None:
    if reminder:
        subject = _("Reminder: please approve the inspection window of %(number)s") % {"number": round_.number}
    else:
        subject = _("Please approve the inspection window of %(number)s") % {"number": round_.number}
    body = "\n\n".join([
        describe(proposal, round_),
        _("Approve the window, or propose another, through this link (no account needed; it works once): "
          "%(url)s") % {"url": approval_url(proposal)},
        _("Add it to your calendar: %(url)s") % {"url": invite_url(round_)},
    ])
    _notify(round_, customer_contacts(round_), subject=subject, body=body, url=approval_url(proposal),
            dedupe_key=dedupe_key)


def _tell_agreed(round_, proposal) -> None:
    subject = _("Inspection window agreed: %(number)s, %(window)s") % {
        "number": round_.number, "window": window_label(proposal.starts_at, proposal.ends_at)}
    body = "\n\n".join([describe(proposal, round_),
                        _("Calendar invitation (.ics): %(url)s") % {"url": invite_url(round_)}])
    recipients = {u.pk: u for u in [*customer_contacts(round_), *our_side(round_)]}
    _notify(round_, list(recipients.values()), subject=subject, body=body, url=invite_url(round_),
            dedupe_key=f"ins-agreed-{proposal.pk}")


# ------------------------------------------------------------------------------------------------ verbs

@transaction.atomic
def send_window(*, round, by, version: int, starts_at: datetime, ends_at: datetime, scope: str,
                downtime_minutes: int | None = None, note: str = "", via: str = VIA_DESK) -> WindowProposal:
    """Our side puts a window to the customer (the first request, or an answer to the customer's proposal, which is
    then countered): the customer's contacts are told, with the approval link, the scope, the devices, the downtime
    and the calendar invitation. Reminders follow daily until they answer."""
    now = clock.now()
    round_ = services.lock_round(round)
    services.claim_version(round_, version)
    if not on_our_side(by, round_):
        raise NotOurSide(_("Only the desk or the round's engineer puts a window to the customer."))
    _awaiting(round_)
    starts_at, ends_at = check_window(round_, starts_at, ends_at, now=now)
    scope = (scope or "").strip()
    if not scope:
        raise DomainError(_("Say what will be done (cleaning, maintenance, replacement)."), field="scope")
    if downtime_minutes is not None and not 0 <= int(downtime_minutes) <= MAX_DOWNTIME_MINUTES:
        raise DomainError(_("The downtime is 0 to %(max)s minutes.") % {"max": MAX_DOWNTIME_MINUTES},
                          field="downtime_minutes")
    previous = _open_proposal(round_)
    if previous is not None:
        _close(previous, ProposalState.COUNTERED if previous.side == ProposalSide.CUSTOMER else ProposalState.WITHDRAWN,
               by=by, at=now, via=via)
    proposal = WindowProposal.objects.create(
        round=round_, customer_id=round_.customer_id, branch_id=round_.branch_id, number=_next_number(round_),
        side=ProposalSide.PROVIDER, starts_at=starts_at, ends_at=ends_at, scope=scope,
        downtime_minutes=downtime_minutes, note=(note or "").strip(), proposed_by=_actor(by), proposed_at=now,
        via=via, link_nonce=secrets.token_hex(8), next_reminder_at=next_reminder(now))
    services.record(round_, EventKind.APPROVAL_REQUESTED, actor=_actor(by), at=now, note=scope,
                    downtime_minutes=downtime_minutes, **_window_data(proposal))
    _ask_customer(round_, proposal, dedupe_key=f"ins-approval-{proposal.pk}")
    return proposal


def _customer_answer(proposal, by, name: str) -> tuple[WindowProposal, InspectionRound, str]:
    proposal = WindowProposal.objects.select_for_update().get(pk=proposal.pk)
    round_ = services.lock_round(proposal.round)
    if by is not None and by.is_authenticated and not on_customer_side(by, round_):
        raise NotOurSide(_("Only the customer's contacts answer this window."))
    _awaiting(round_)
    if proposal.state != ProposalState.OPEN or proposal.side != ProposalSide.PROVIDER:
        raise IllegalTransition(_("This window has been answered already, or replaced by a newer one."))
    return proposal, round_, _named(by, name)


@transaction.atomic
def approve_window(*, proposal, by=None, name: str = "", via: str = VIA_PORTAL) -> WindowProposal:
    """The customer approves our window: it is the agreed window and the round is approved (it may start). `by` is
    the logged-in contact, or None through the link (then `name` says who approved)."""
    now = clock.now()
    proposal, round_, name = _customer_answer(proposal, by, name)
    if proposal.ends_at <= now:
        raise IllegalTransition(_("This window has passed: please propose another."))
    _close(proposal, ProposalState.ACCEPTED, by=by, at=now, name=name, via=via)
    who = name or (by.display_name if _actor(by) else "")
    services.record_approval(round=round_, at=now, by=_actor(by),
                             note=_("Window %(window)s approved (%(via)s%(who)s).") % {
                                 "window": window_label(proposal.starts_at, proposal.ends_at),
                                 "via": PROPOSAL_VIA.get(via, via),
                                 "who": f", {who}" if who else ""})
    round_.refresh_from_db()
    _tell_agreed(round_, proposal)
    return proposal


@transaction.atomic
def propose_window(*, proposal, by=None, name: str = "", starts_at: datetime, ends_at: datetime, note: str = "",
                   via: str = VIA_PORTAL) -> WindowProposal:
    """The customer answers our window with another: it goes back to our side (the desk and the engineer), who
    accept it or answer with another."""
    now = clock.now()
    proposal, round_, name = _customer_answer(proposal, by, name)
    starts_at, ends_at = check_window(round_, starts_at, ends_at, now=now)
    _close(proposal, ProposalState.COUNTERED, by=by, at=now, name=name, via=via)
    _bump(round_)
    theirs = WindowProposal.objects.create(
        round=round_, customer_id=round_.customer_id, branch_id=round_.branch_id, number=_next_number(round_),
        side=ProposalSide.CUSTOMER, starts_at=starts_at, ends_at=ends_at, scope=proposal.scope,
        downtime_minutes=proposal.downtime_minutes, note=(note or "").strip(), proposed_by=_actor(by),
        proposed_by_name=name, proposed_at=now, via=via)
    services.record(round_, EventKind.WINDOW_PROPOSED, actor=_actor(by), at=now, note=theirs.note, name=name, via=via,
                    **_window_data(theirs))
    subject = _("The customer proposes another window for %(number)s: %(window)s") % {
        "number": round_.number, "window": window_label(starts_at, ends_at)}
    body = "\n\n".join([describe(theirs, round_),
                        _("Accept it, or propose another: %(url)s") % {"url": site(approval_page(round_))}])
    _notify(round_, our_side(round_), subject=subject, body=body, url=approval_page(round_),
            dedupe_key=f"ins-proposed-{theirs.pk}")
    return theirs


@transaction.atomic
def accept_window(*, round, by, version: int, via: str = VIA_DESK) -> WindowProposal:
    """Our side accepts the window the customer proposed: it is the agreed window and the round is approved (the
    approval is the customer's, at the time they proposed it; the acceptance is a line of its own)."""
    now = clock.now()
    round_ = services.lock_round(round)
    services.claim_version(round_, version)
    if not on_our_side(by, round_):
        raise NotOurSide(_("Only the desk or the round's engineer accepts the customer's window."))
    _awaiting(round_)
    theirs = _open_proposal(round_)
    if theirs is None or theirs.side != ProposalSide.CUSTOMER:
        raise IllegalTransition(_("There is no window proposed by the customer to accept."))
    if theirs.ends_at <= now:
        raise IllegalTransition(_("This window has passed: propose another."))
    _close(theirs, ProposalState.ACCEPTED, by=by, at=now, via=via)
    services.record(round_, EventKind.WINDOW_ACCEPTED, actor=_actor(by), at=now, **_window_data(theirs))
    who = theirs.proposed_by_name or (theirs.proposed_by.display_name if theirs.proposed_by_id else "")
    services.record_approval(round=round_, at=theirs.proposed_at, by=theirs.proposed_by,
                             note=_("Window %(window)s proposed by the customer%(who)s, accepted by %(by)s.") % {
                                 "window": window_label(theirs.starts_at, theirs.ends_at),
                                 "who": f" ({who})" if who else "", "by": by.display_name})
    round_.refresh_from_db()
    _tell_agreed(round_, theirs)
    return theirs


def approval_page(round_) -> str:
    return reverse("inspections:round_approval", args=[round_.pk])


# ------------------------------------------------------------------------------------------------ reminders

def send_reminders(*, now: datetime | None = None, limit: int = 200) -> int:
    """The worker: one reminder a day per proposal of ours still waiting for the customer, keyed by (round, request
    version, day). Each proposal is claimed by a conditional UPDATE of its due time (a second worker finds it moved
    and skips it), and the outbox's dedupe key makes a repeat on the same day add nothing. A proposal answered,
    replaced, overridden or whose window has begun stops being reminded."""
    now = now or clock.now()
    due = list(WindowProposal.objects.filter(next_reminder_at__lte=now).order_by("next_reminder_at", "pk")
               .values_list("pk", "next_reminder_at")[:limit])
    sent = 0
    day = local(now).date()
    for pk, due_at in due:
        with transaction.atomic():
            proposal = (WindowProposal.objects.select_related("round__plan", "round__project", "round__engineer")
                        .filter(pk=pk, next_reminder_at=due_at).first())
            if proposal is None:
                continue
            round_ = proposal.round
            waiting = (proposal.state == ProposalState.OPEN and proposal.side == ProposalSide.PROVIDER
                       and round_.state == RoundState.AWAITING_APPROVAL and proposal.starts_at > now)
            claimed = WindowProposal.objects.filter(pk=pk, next_reminder_at=due_at).update(
                next_reminder_at=next_reminder(now) if waiting else None,
                reminders_sent=F("reminders_sent") + (1 if waiting else 0))
            if not claimed or not waiting:
                continue
            _ask_customer(round_, proposal, reminder=True,
                          dedupe_key=f"ins-approval-remind-{round_.pk}-{proposal.number}-{day:%Y%m%d}")
            sent += 1
    return sent
