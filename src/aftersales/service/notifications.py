"""Who hears about what (NOT-1). Messages go through the outbox in the caller's transaction."""

from django.conf import settings
from django.contrib.auth import get_user_model

from aftersales.accounts.models import Position


def _url(request) -> str:
    return settings.SITE_URL.rstrip("/") + request.get_absolute_url()


def send(event: str, request, recipients, *, subject: str, body: str, dedupe_key: str, url: str | None = None) -> None:
    from aftersales.notify import services as notify

    recipients = [user for user in recipients if user is not None and user.is_active]
    notify.enqueue(event=event, about=request, recipients=recipients, subject=subject, body=body,
                   url=url or _url(request), dedupe_key=dedupe_key)


def desk(request):
    """The dispatchers of the request's branch."""
    return list(get_user_model().objects.filter(branch_id=request.branch_id, position=Position.DISPATCHER, is_active=True))


def holders_of(position: str, request):
    """Staff with `position` in the request's branch; if the branch has none (a general manager sits at
    head office), every active holder of the position."""
    users = get_user_model().objects.filter(position=position, is_active=True, customer__isnull=True)
    local = list(users.filter(branch_id=request.branch_id))
    return local or list(users)


def customer_contacts(request):
    """The reporter if they are the customer's user, otherwise every contact of the customer."""
    users = get_user_model().objects.filter(customer_id=request.customer_id, is_active=True).order_by("pk")
    reporter = users.filter(pk=request.reporter_id).first() if request.reporter_id else None
    return [reporter] if reporter else list(users)
