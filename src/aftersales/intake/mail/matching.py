"""Which request, customer or project a parsed mail belongs to: threading by the reply headers (our notifications
and earlier inbound mail) or by a request number in the subject, who the sender is (a customer's contact, staff)
and the project a new request goes to. Reads only; `routing` decides what happens."""

import re

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType

from aftersales.core.scoping import visible
from aftersales.service.models import ServiceRequest

from ..models import InboundMail
from .parsing import ParsedMail

TOKEN = re.compile(r"(?<![A-Za-z0-9])SR(\d{7,12})(?![0-9])", re.IGNORECASE)


class Sender:
    """Who wrote the mail, and what that allows."""

    def __init__(self, parsed: ParsedMail):
        self.parsed = parsed
        users = list(get_user_model().objects.filter(email__iexact=parsed.sender, is_active=True)
                     .select_related("customer").order_by("pk")) if parsed.sender else []
        self.contacts = [user for user in users if user.customer_id]
        self.staff = [user for user in users if not user.customer_id]
        self.customer_ids = {user.customer_id for user in self.contacts}
        self.contact = self.contacts[0] if len(self.customer_ids) == 1 else None

    def contact_of(self, customer_id):
        return next((user for user in self.contacts if user.customer_id == customer_id), None)

    def staff_seeing(self, request):
        for user in self.staff:
            if visible(ServiceRequest.objects.filter(pk=request.pk), user).exists():
                return user
        return None


def is_our_own_message(parsed: ParsedMail) -> bool:
    from aftersales.notify.models import OutboxMessage

    return bool(parsed.message_id) and OutboxMessage.objects.filter(message_id=parsed.message_id).exists()


def thread_by_headers(parsed: ParsedMail) -> ServiceRequest | None:
    """The request that one of the referenced messages was about: one of our notifications, or a mail
    that was added to (or opened) a request. In-Reply-To wins, then the newest reference."""
    if not parsed.references:
        return None
    from aftersales.notify.models import Channel as NotifyChannel
    from aftersales.notify.models import OutboxMessage

    request_type = ContentType.objects.get_for_model(ServiceRequest)
    found: dict[str, int] = {}
    for message_id, about_id in (OutboxMessage.objects.filter(message_id__in=parsed.references, channel=NotifyChannel.EMAIL,
                                                              about_type=request_type)
                                 .values_list("message_id", "about_id")):
        if about_id.isdigit():
            found.setdefault(message_id, int(about_id))
    for message_id, request_id in (InboundMail.objects.filter(message_id__in=parsed.references, request__isnull=False)
                                   .values_list("message_id", "request_id")):
        found.setdefault(message_id, request_id)
    for message_id in parsed.references:
        if message_id in found:
            request = ServiceRequest.objects.filter(pk=found[message_id]).first()
            if request is not None:
                return request
    return None


def subject_tokens(subject: str) -> list[str]:
    return list(dict.fromkeys(f"SR{digits}" for digits in TOKEN.findall(subject)))


def match_project(projects, text: str):
    """The one project named in the mail by contract number, else by name; None if none or several."""
    folded = text.casefold()
    by_contract = [p for p in projects if p.contract_number and p.contract_number.casefold() in folded]
    if len(by_contract) == 1:
        return by_contract[0]
    if by_contract:
        return None
    by_name = [p for p in projects if len(p.name) >= 2 and p.name.casefold() in folded]
    # "银川天网工程" also contains "天网": the longer name is the more specific one
    by_name = [p for p in by_name if not any(o is not p and p.name.casefold() in o.name.casefold() for o in by_name)]
    return by_name[0] if len(by_name) == 1 else None


def thread_by_subject(sender: Sender) -> ServiceRequest | None:
    """The request whose number is in the subject: only among the sender's own customer's requests, or for staff
    among those they see."""
    tokens = subject_tokens(sender.parsed.subject)
    if not tokens:
        return None
    for number in tokens:
        candidates = ServiceRequest.objects.filter(number=number.upper())
        if sender.customer_ids:
            # Only the sender's own customer's requests: a number never leads into another customer's request.
            found = candidates.filter(customer_id__in=sender.customer_ids).first()
        else:
            found = next((r for r in candidates if sender.staff_seeing(r)), None) if sender.staff else None
        if found is not None:
            return found
    return None
