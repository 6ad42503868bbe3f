"""The bell counts the user's own unread in-app notifications, and stops at BELL_CAP + 1 ("99+")."""

from aftersales.core import clock
from aftersales.notify.models import Channel, OutboxMessage
from aftersales.notify.selectors import BELL_CAP, unread_count


def inapp(user, n, *, read=False, key="k"):
    now = clock.now()
    OutboxMessage.objects.bulk_create([
        OutboxMessage(channel=Channel.INAPP, recipient_user=user, event="comment", subject="s", body="b",
                      dedupe_key=f"{key}-{i}", created_at=now, sent_at=now, read_at=now if read else None)
        for i in range(n)])


def test_the_bell_counts_only_the_users_unread_in_app_messages(dispatcher, engineer):
    inapp(dispatcher, 3)
    inapp(dispatcher, 2, read=True, key="read")
    inapp(engineer, 4, key="other")
    assert unread_count(dispatcher) == 3 and unread_count(engineer) == 4 and unread_count(None) == 0


def test_the_bell_stops_counting_past_its_cap(dispatcher):
    inapp(dispatcher, BELL_CAP + 5)
    assert unread_count(dispatcher) == BELL_CAP + 1
