"""Issue 23 §2, §10: the round's calendar invitation (.ics) for its agreed window, with a UID that stays the same; the
per-user feeds (own work, or one project) behind an unguessable key that works without a login, stops at once when
revoked (404), and shows only what the key's user may see."""

from datetime import date

import pytest
from django.urls import reverse

from aftersales.core import clock
from aftersales.core.errors import DomainError
from aftersales.inspections import approvals, calendars, ical
from aftersales.inspections.models import CalendarToken

from .conftest import make_plan, shanghai
from .test_approval_gate import send


@pytest.fixture
def december(frozen_clock, project_a, device_a, camera_checklist, engineer, manager):
    """December 2026's round of a plan needing the customer's approval (the clock says 26 November)."""
    plan = make_plan(project_a, camera_checklist, [engineer], manager, needs_approval=True)
    return plan.rounds.get(period_start=date(2026, 12, 1))


def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def fields(text: str, name: str) -> list[str]:
    return [line.split(":", 1)[1] for line in unfold(text) if line.split(":", 1)[0].split(";")[0] == name]


@pytest.fixture
def agreed(client, december, manager, customer_user_a):
    ours = send(december, manager, day=3, start=9, end=12)
    client.force_login(customer_user_a)
    client.post(reverse("inspections:round_approval", args=[december.pk]), {"action": "approve"})
    client.logout()
    december.refresh_from_db()
    return ours


def test_the_round_invitation_holds_the_agreed_window_and_a_stable_uid(client, agreed, december, manager, device_a):
    client.force_login(manager)
    response = client.get(reverse("inspections:round_invite", args=[december.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    text = response.content.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    # 09:00–12:00 in Shanghai is 01:00–04:00 UTC
    assert fields(text, "DTSTART") == ["20261203T010000Z"] and fields(text, "DTEND") == ["20261203T040000Z"]
    assert fields(text, "STATUS") == ["CONFIRMED"] and fields(text, "METHOD") == ["PUBLISH"]
    uid = fields(text, "UID")
    assert uid == [f"inspection-round-{december.pk}@127.0.0.1"]
    assert device_a.name in "".join(fields(text, "DESCRIPTION"))
    again = client.get(reverse("inspections:round_invite", args=[december.pk])).content.decode()
    assert fields(again, "UID") == uid


def test_while_under_discussion_the_invitation_is_tentative_with_the_same_uid(client, december, manager):
    send(december, manager, day=3)
    client.force_login(manager)
    text = client.get(reverse("inspections:round_invite", args=[december.pk])).content.decode()
    assert fields(text, "STATUS") == ["TENTATIVE"] and fields(text, "DTSTART") == ["20261203T010000Z"]
    assert fields(text, "UID") == [f"inspection-round-{december.pk}@127.0.0.1"]
    assert fields(text, "SEQUENCE") == ["1"]


def test_the_invitation_link_of_the_mail_works_without_a_login_for_its_customer_only(client, agreed, december,
                                                                                     customer_user_b):
    url = approvals.invite_url(december).split("127.0.0.1:8000", 1)[1]
    response = client.get(url)
    assert response.status_code == 200 and fields(response.content.decode(), "DTSTART") == ["20261203T010000Z"]
    assert client.get(url[:-4] + "xyz/").status_code == 404
    client.force_login(customer_user_b)
    assert client.get(url).status_code == 403


def test_another_customers_round_invitation_is_404(client, agreed, december, customer_user_b):
    client.force_login(customer_user_b)
    assert client.get(reverse("inspections:round_invite", args=[december.pk])).status_code == 404


def test_a_feed_works_without_a_login_and_stops_when_revoked(client, agreed, december, engineer):
    token = calendars.create_token(user=engineer)
    url = reverse("inspections:calendar_feed", args=[token.key])
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    text = response.content.decode()
    assert f"inspection-round-{december.pk}@127.0.0.1" in fields(text, "UID")
    assert "20261203T010000Z" in fields(text, "DTSTART")
    calendars.revoke_token(user=engineer, token_id=token.pk)
    assert client.get(url).status_code == 404
    assert client.get(reverse("inspections:calendar_feed", args=["not-a-key"])).status_code == 404
    assert client.get(reverse("inspections:calendar_feed", args=["x" * 80])).status_code == 404


def test_a_feed_of_a_user_no_longer_active_is_404(client, plan_a, engineer):
    token = calendars.create_token(user=engineer)
    engineer.is_active = False
    engineer.save(update_fields=["is_active"])
    assert client.get(reverse("inspections:calendar_feed", args=[token.key])).status_code == 404


def test_a_feed_shows_only_what_its_user_may_see(client, frozen_clock, plan_a, plan_b, customer_user_a,
                                                 customer_user_b, engineer, engineer2, project_a, project_b,
                                                 admin_user):
    from aftersales.training import services as training

    session = training.plan_session(by=admin_user, project=project_a, title="交接培训", kind="handover",
                                    venue="on_site", starts_at=shanghai(2026, 12, 2, 9), ends_at=shanghai(2026, 12, 2, 11),
                                    content="回放", trainers=[engineer], attendees=[training.AttendeeIn("李强")])

    def uids(user, project=None):
        token = calendars.create_token(user=user, project=project)
        return set(fields(client.get(reverse("inspections:calendar_feed", args=[token.key])).content.decode(), "UID"))

    a_rounds = {calendars.round_uid(r) for r in plan_a.rounds.all()}
    b_rounds = {calendars.round_uid(r) for r in plan_b.rounds.all()}
    training_uid = f"training-session-{session.pk}@127.0.0.1"
    assert uids(customer_user_a) == a_rounds | {training_uid}  # a customer: everything of their projects
    assert uids(customer_user_b) == b_rounds
    assert uids(engineer) == a_rounds | {training_uid}  # an engineer: what is assigned to them
    assert uids(engineer2) == set()
    assert uids(customer_user_a, project_a) == a_rounds | {training_uid}
    with pytest.raises(DomainError):
        calendars.create_token(user=customer_user_a, project=project_b)


def test_the_feeds_page_creates_and_revokes_a_users_own_feeds(client, plan_a, engineer, manager, project_a):
    client.force_login(engineer)
    assert client.get(reverse("inspections:calendar_feeds")).status_code == 200
    assert client.post(reverse("inspections:calendar_feeds"), {"action": "create", "project": ""}).status_code == 302
    token = CalendarToken.objects.get(user=engineer)
    page = client.get(reverse("inspections:calendar_feeds")).content.decode()
    assert token.key in page
    client.force_login(manager)  # another user's feed is not theirs to revoke
    client.post(reverse("inspections:calendar_feeds"), {"action": "revoke", "token": token.pk})
    token.refresh_from_db()
    assert token.revoked_at is None
    client.force_login(engineer)
    client.post(reverse("inspections:calendar_feeds"), {"action": "revoke", "token": token.pk})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token.key not in client.get(reverse("inspections:calendar_feeds")).content.decode()
    assert client.get(reverse("inspections:calendar_feed", args=[token.key])).status_code == 404
    response = client.post(reverse("inspections:calendar_feeds"), {"action": "create", "project": "999999"})
    assert response.status_code == 200 and response.context["form"].errors


def test_the_feeds_page_needs_a_login(client):
    response = client.get(reverse("inspections:calendar_feeds"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_icalendar_text_is_escaped_and_folded_at_75_octets():
    stamp = clock.now()
    event = ical.Event(uid="u1@x", summary="巡检; 镜头, 清洁\\" + "长" * 40, start=date(2026, 12, 3),
                       description="第一行\n第二行")
    text = ical.calendar([event], name="测试", stamp=stamp)
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert fields(text, "SUMMARY")[0].startswith("巡检\\; 镜头\\, 清洁\\\\")
    assert fields(text, "DESCRIPTION") == ["第一行\\n第二行"]
    assert fields(text, "DTSTART") == ["20261203"] and fields(text, "DTEND") == ["20261204"]
    assert "DTSTART;VALUE=DATE:20261203" in unfold(text)
