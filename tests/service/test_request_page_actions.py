"""The pages ask one table which actions a user may take (service.actions.allowed_actions): the request page shows a
panel for exactly those, the engineer's phone page a button; the desk pages through the queue in its own order; a
countdown reads the same wherever it is shown; staff see each timeline line's changes."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse

from aftersales.service import actions, verbs
from aftersales.service.models import Channel, Priority, ServiceRequest
from aftersales.service.views.request_page import ACTION_VIEWS

from ..factories import current_version

PANEL = re.compile(r'id="action-([a-z_]+)"')


@pytest.fixture
def client(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def open_request(by, project, **kwargs):
    return verbs.open_request(by=by, project=project, priority=kwargs.pop("priority", Priority.GENERAL),
                              channel=Channel.PHONE, title=kwargs.pop("title", "NVR 录像丢失"),
                              description="3 号 NVR 昨晚录像缺失", **kwargs)


def panels(client, user, request_obj) -> set[str]:
    client.force_login(user)
    return set(PANEL.findall(client.get(request_obj.get_absolute_url()).content.decode()))


def allowed_panels(user, request_obj) -> set[str]:
    """The panel ids (the URL names) of the actions service.actions allows `user` on `request_obj` now."""
    fresh = ServiceRequest.objects.prefetch_related("visits", "work_orders").get(pk=request_obj.pk)
    allowed = actions.allowed_actions(user, fresh)
    return {view.name for view in ACTION_VIEWS if view.action in allowed}


def test_every_action_has_one_page_and_each_page_names_its_action():
    assert sorted(view.action for view in ACTION_VIEWS) == sorted(actions.ACTIONS)
    for view in ACTION_VIEWS:
        assert view.permission_required == actions.permission_of(view.action), view.name
        assert reverse(f"service:{view.name}", args=[1])  # the URL names stay what they were


def test_the_request_page_shows_a_panel_for_exactly_the_actions_allowed_now(
        client, frozen_clock, dispatcher, engineer, customer_user_a, project_a):
    request_obj = open_request(dispatcher, project_a)
    seen = {}
    for step in ("new", "dispatched", "en route", "on site", "resolved", "closed", "paused"):
        if step == "dispatched":
            verbs.dispatch(request=request_obj, by=dispatcher, version=current_version(request_obj), engineer=engineer)
        elif step == "en route":
            verbs.depart(request=request_obj, by=engineer)
        elif step == "on site":
            verbs.arrive(request=request_obj, by=engineer, confirmed_by_customer=True)
        elif step == "resolved":
            request_obj.refresh_from_db()
            verbs.submit_work_order(request=request_obj, by=engineer, version=request_obj.version, actions="更换电源",
                                    minutes_spent=30, result="solved")
        elif step == "closed":
            work_order = request_obj.work_orders.get()
            verbs.confirm_work_order(work_order=work_order, by=None, signer_name="李主任", via="signature",
                                     version=work_order.version, signature=None)
        elif step == "paused":
            request_obj = open_request(dispatcher, project_a, title="另一个问题")
            verbs.pause(request=request_obj, by=dispatcher, version=current_version(request_obj), reason="等待业主")
        for user in (dispatcher, engineer, customer_user_a):
            shown = panels(client, user, request_obj)
            assert shown == allowed_panels(user, request_obj), (step, user.username)
            seen[step, user.username] = shown
    assert {"reply", "dispatch", "pause", "priority", "cancel"} <= seen["new", "dispatcher"]
    assert "depart" in seen["dispatched", "engineer"] and "depart" not in seen["dispatched", "dispatcher"]
    assert {"arrive"} <= seen["en route", "engineer"] and "depart" not in seen["en route", "engineer"]
    assert "work_order" in seen["on site", "engineer"]
    assert "sign" in seen["resolved", "engineer"] and "confirm" in seen["resolved", "cust_a"]
    assert "leave" not in seen["on site", "engineer"] | seen["resolved", "engineer"]  # SRQ-7: after the confirmation
    assert "leave" in seen["closed", "engineer"] and "cancel" not in seen["closed", "dispatcher"]
    assert "resume" in seen["paused", "dispatcher"] and "pause" not in seen["paused", "dispatcher"]


def test_a_post_the_state_does_not_allow_is_refused_by_the_verb_and_writes_nothing(
        client, frozen_clock, dispatcher, project_a):
    request_obj = open_request(dispatcher, project_a)
    verbs.pause(request=request_obj, by=dispatcher, version=current_version(request_obj), reason="等待业主")
    events = request_obj.events.count()
    client.force_login(dispatcher)
    response = client.post(reverse("service:pause", args=[request_obj.pk]),
                           {"version": current_version(request_obj), "reason": "又一次"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 409 and "Only a running clock" in response.content.decode()
    assert request_obj.events.count() == events
    page = client.get(reverse("service:pause", args=[request_obj.pk])).content.decode()  # the action's own page
    assert "This action is not possible in the request" in page


def test_the_phone_page_offers_the_buttons_of_the_allowed_actions(client, frozen_clock, dispatcher, engineer, project_a):
    request_obj = open_request(dispatcher, project_a)
    verbs.dispatch(request=request_obj, by=dispatcher, version=current_version(request_obj), engineer=engineer)
    client.force_login(engineer)
    work = reverse("service:my_work")

    def buttons():
        page = client.get(work).content.decode()
        return {name for name in ("depart", "arrive", "work_order", "sign", "leave")
                if reverse(f"service:{name}", args=[request_obj.pk]) in page}

    assert buttons() == {"depart", "arrive"}
    verbs.depart(request=request_obj, by=engineer)
    assert buttons() == {"arrive"}
    verbs.arrive(request=request_obj, by=engineer, confirmed_by_customer=True)
    assert buttons() == {"work_order"}
    verbs.submit_work_order(request=request_obj, by=engineer, version=current_version(request_obj), actions="更换电源",
                            minutes_spent=30, result="solved")
    assert buttons() == {"sign"}


def test_the_desk_pages_through_the_queue_in_its_own_order(client, frozen_clock, dispatcher, project_a):
    created = []
    for n in range(5):
        created.append(open_request(dispatcher, project_a, title=f"问题{n}"))
        frozen_clock.shift(timedelta(minutes=1))
    client.force_login(dispatcher)
    shown = []
    for number in (1, 2, 3):
        page = client.get(reverse("service:desk"), {"size": 2, "page": number}).content.decode()
        shown.append([int(pk) for pk in re.findall(r'<tr class="risk-[a-z]+" data-request="(\d+)"', page)])
    assert shown == [[created[0].pk, created[1].pk], [created[2].pk, created[3].pk], [created[4].pk]]


def test_an_empty_desk_says_so(client, dispatcher):
    client.force_login(dispatcher)
    page = client.get(reverse("service:desk")).content.decode()
    assert "No open requests." in page and 'class="risk-' not in page


def test_a_countdown_reads_the_same_on_every_page_that_shows_it(client, frozen_clock, dispatcher, project_a):
    request_obj = open_request(dispatcher, project_a)  # general: a reply within 2 h
    frozen_clock.shift(timedelta(hours=3, minutes=5))
    client.force_login(dispatcher)
    for language, text in (("en", "1 h 5 min overdue"), ("zh-hans", "已超时 1 小时 5 分钟")):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        for url in (reverse("service:desk"), reverse("service:request_list"), request_obj.get_absolute_url(),
                    reverse("service:pause", args=[request_obj.pk])):
            page = client.get(url).content.decode()
            assert f'<span class="countdown-text">{text}</span>' in page, (language, url)
    frozen_clock.shift(timedelta(days=1, hours=2))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert '<span class="countdown-text">1 d 3 h overdue</span>' in client.get(reverse("service:desk")).content.decode()


def test_staff_see_what_each_timeline_line_changed_and_customers_do_not(client, frozen_clock, dispatcher,
                                                                          customer_user_a, project_a):
    request_obj = open_request(dispatcher, project_a)
    verbs.change_priority(request=request_obj, by=dispatcher, priority=Priority.EMERGENCY, reason="业务中断",
                          version=current_version(request_obj))
    client.force_login(dispatcher)
    page = client.get(request_obj.get_absolute_url()).content.decode()
    changes = page[page.index('data-kind="priority_changed"'):]
    changes = changes[:changes.index("</li>")]
    assert 'class="small text-body-secondary mt-1 timeline-changes"' in changes
    assert "General → Emergency" in changes
    client.force_login(customer_user_a)
    assert "timeline-changes" not in client.get(request_obj.get_absolute_url()).content.decode()


def test_the_changes_name_related_rows_and_show_local_times(client, frozen_clock, dispatcher, engineer, project_a):
    request_obj = open_request(dispatcher, project_a)
    verbs.dispatch(request=request_obj, by=dispatcher, version=current_version(request_obj), engineer=engineer)
    client.force_login(dispatcher)
    page = client.get(request_obj.get_absolute_url()).content.decode()
    dispatched = page[page.index('data-kind="dispatched"'):]
    dispatched = dispatched[:dispatched.index("</details>")]
    assert f"Engineer: — → {engineer.display_name}" in dispatched  # a name, not the row's id
    assert "Replied at: — → 2026-11-26 10:00" in dispatched  # local time (frozen at 10:00 in Shanghai), not ISO UTC
    assert "#" not in dispatched.split("timeline-changes", 1)[1]
