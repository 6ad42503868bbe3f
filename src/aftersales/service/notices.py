"""Who hears about what (NOT-1). Messages go through the outbox in the caller's transaction."""

from collections import defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model

from aftersales.accounts.models import Position
from aftersales.core.cache import WorkerCache

# Active staff by position, read once per worker and cleared by any save of a user (core/cache.py).
_staff = WorkerCache("staff by position", get_user_model())


def url_of(request) -> str:
    return settings.SITE_URL.rstrip("/") + request.get_absolute_url()


def message(event: str, request, recipients, *, subject: str, body: str, dedupe_key: str, url: str | None = None):
    """One outbox message about a request, for `notify.services.enqueue_many`."""
    from aftersales.notify.services import Message

    return Message(event=event, about=request, recipients=[user for user in recipients if user is not None and user.is_active],
                   subject=subject, body=body, url=url or url_of(request), dedupe_key=dedupe_key)


def send(event: str, request, recipients, *, subject: str, body: str, dedupe_key: str, url: str | None = None) -> None:
    send_many([message(event, request, recipients, subject=subject, body=body, dedupe_key=dedupe_key, url=url)])


def send_many(messages) -> None:
    """Enqueue several messages with one INSERT (the SLA sweep)."""
    from aftersales.notify import services as notify

    notify.enqueue_many(messages)


def _holders(position: str) -> tuple[list, dict[int, list]]:
    """Every active staff member with `position` (by username), and the same grouped by branch."""
    def load():
        users = list(get_user_model().objects.filter(position=position, is_active=True, customer__isnull=True))
        by_branch = defaultdict(list)
        for user in users:
            by_branch[user.branch_id].append(user)
        return users, dict(by_branch)

    return _staff.get(position, load)


def desk(request):
    """The dispatchers of the request's branch."""
    return list(_holders(Position.DISPATCHER)[1].get(request.branch_id, ()))


def holders_of(position: str, request):
    """Staff with `position` in the request's branch; if the branch has none (a general manager sits at
    head office), every active holder of the position."""
    everyone, by_branch = _holders(position)
    return list(by_branch.get(request.branch_id) or everyone)


def customer_contacts(request):
    """The reporter if they are the customer's user, otherwise every contact of the customer."""
    users = get_user_model().objects.filter(customer_id=request.customer_id, is_active=True).order_by("pk")
    reporter = users.filter(pk=request.reporter_id).first() if request.reporter_id else None
    return [reporter] if reporter else list(users)
