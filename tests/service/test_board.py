"""Issue 21 §10: the dispatch board (派工看板). The pure layout (service/board.py), the page (shifts, assignments and
appointments in the right cells, who is free and who is on call tonight), assigning from the board through the
dispatch verb, a stale version, scoping, and a fixed number of queries."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from aftersales.accounts import roles
from aftersales.accounts.models import Position
from aftersales.accounts.roster import Shift
from aftersales.core.clock import SHANGHAI
from aftersales.notify.models import OutboxMessage
from aftersales.service import board, verbs
from aftersales.service.models import (
    EventKind,
    Priority,
    ServiceRequest,
    State,
    TimelineEvent,
)

from ..conftest import FROZEN_AT
from ..factories import OnCallShiftFactory, StaffFactory, current_version
from .conftest import shanghai

BOARD = reverse("service:board")
THURSDAY = date(2026, 11, 26)  # FROZEN_AT's day


# ------------------------------------------------------------------------------------------ the pure layout

def every_day(start: time, end: time, **kwargs) -> Shift:
    return Shift(None, start, end, date(2024, 1, 1), **kwargs)


def assignment(pk, assignee_id, state=State.DISPATCHED, **kwargs) -> board.Assignment:
    return board.Assignment(pk=pk, number=f"N{pk}", title="t", state=state, priority=Priority.GENERAL,
                            assignee_id=assignee_id, **kwargs)


def test_a_shift_shows_on_each_day_it_starts_and_an_overnight_one_says_so():
    day_shift = Shift(None, time(8), time(18), date(2024, 1, 1), valid_until=THURSDAY + timedelta(days=2))
    night_shift = Shift(4, time(20), time(8), date(2024, 1, 1))  # Fridays 20:00 until Saturday 08:00
    grid = board.build(engineers=[board.Engineer(1, "张工")],
                       shifts=[board.EngineerShift(1, day_shift), board.EngineerShift(1, night_shift)],
                       assignments=[], now=FROZEN_AT)
    assert grid.days == [THURSDAY + timedelta(days=n) for n in range(7)]
    cells = grid.lines[0].cells
    assert [len(cell.shifts) for cell in cells] == [1, 2, 1, 0, 0, 0, 0]  # valid until Saturday; Friday night too
    friday_night = cells[1].shifts[1]
    assert friday_night.overnight and friday_night.end == datetime(2026, 11, 28, 8, 0)
    assert not cells[0].shifts[0].overnight and not cells[0].shifts[0].whole_day
    assert board.span_on(every_day(time(8), time(8)), THURSDAY).whole_day


def test_who_is_on_call_now_and_tonight():
    grid = board.build(
        engineers=[board.Engineer(1, "白班"), board.Engineer(2, "夜班"), board.Engineer(3, "昨夜"), board.Engineer(4, "全天")],
        shifts=[board.EngineerShift(1, every_day(time(8), time(17))),
                board.EngineerShift(2, every_day(time(22), time(6))),
                board.EngineerShift(3, Shift(2, time(20), time(10), date(2024, 1, 1))),  # Wednesday night, until 10:00
                board.EngineerShift(4, every_day(time(8), time(8)))],
        assignments=[], now=FROZEN_AT)  # Thursday 10:00
    seen = {line.engineer.name: (line.on_call_now, line.on_call_tonight) for line in grid.lines}
    assert seen == {"白班": (True, False), "夜班": (False, True), "昨夜": (False, False), "全天": (True, True)}


def test_work_goes_to_its_appointments_day_else_today_and_the_status_follows_the_states():
    tomorrow_2pm = datetime(2026, 11, 27, 14, 0, tzinfo=SHANGHAI)
    items = [
        assignment(1, 1, appointed_at=tomorrow_2pm),
        assignment(2, 1, scheduled_for=datetime(2026, 11, 29, 9, 0, tzinfo=SHANGHAI)),
        assignment(3, 1, scheduled_for=datetime(2026, 12, 20, 9, 0, tzinfo=SHANGHAI)),  # after the last day: today
        assignment(4, 1, scheduled_for=datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI)),  # missed: today, overdue
        assignment(5, 1, state=State.EN_ROUTE),
        assignment(6, 2, state=State.ON_SITE), assignment(7, 2, state=State.EN_ROUTE),
        # 23:30 UTC on the 26th is already the 27th in Shanghai
        assignment(8, 3, state=State.REPLIED, scheduled_for=datetime(2026, 11, 26, 23, 30, tzinfo=UTC)),
    ]
    grid = board.build(engineers=[board.Engineer(n, str(n)) for n in (1, 2, 3, 4)], shifts=[], assignments=items,
                       now=FROZEN_AT)
    placed = {line.engineer.pk: [[item.pk for item in cell.items] for cell in line.cells] for line in grid.lines}
    assert placed[1] == [[4, 3, 5], [1], [], [2], [], [], []]  # by appointment, then the rest
    assert placed[3][1] == [8]
    status = {line.engineer.pk: (line.status, line.open_count) for line in grid.lines}
    assert status == {1: (board.EN_ROUTE, 5), 2: (board.ON_SITE, 2), 3: (board.BUSY, 1), 4: (board.FREE, 0)}
    assert all(cell.rounds == [] for line in grid.lines for cell in line.cells)  # INS-*: the place, empty for now


# ------------------------------------------------------------------------------------------ the page

def open_request(by, project, priority=Priority.SERIOUS, title="录像丢失") -> ServiceRequest:
    return verbs.open_request(by=by, project=project, priority=priority, channel="phone", title=title,
                              description="业主来电")


def make_engineer(username, branch, **kwargs):
    return StaffFactory(username=username, branch=branch, position=Position.ENGINEER, role=roles.ENGINEER, **kwargs)


@pytest.fixture
def busy_branch(frozen_clock, dispatcher, engineer, project_a, branch_a):
    """Branch A: `engineer` on call every night, dispatched to an emergency and to a general request with an
    appointment the day after tomorrow; a second engineer free; one request waiting."""
    OnCallShiftFactory(user=engineer, branch=branch_a, start_time=time(20), end_time=time(8))
    free = make_engineer("free_eng", branch_a, full_name="王空闲")
    OnCallShiftFactory(user=free, branch=branch_a, start_time=time(8), end_time=time(18), weekday=3)  # Thursdays
    urgent = open_request(dispatcher, project_a, Priority.EMERGENCY, "监控中心黑屏")
    verbs.dispatch(request=urgent, by=dispatcher, version=current_version(urgent), engineer=engineer)
    planned = open_request(dispatcher, project_a, Priority.GENERAL, "门禁读卡器")
    verbs.reply(request=planned, by=dispatcher, version=current_version(planned), mode="onsite", plan="后天上门",
                scheduled_for=shanghai(2026, 11, 28, 14, 30))
    verbs.dispatch(request=planned, by=dispatcher, version=current_version(planned), engineer=engineer)
    waiting = open_request(dispatcher, project_a, Priority.SERIOUS, "存储告警")
    return {"free": free, "urgent": urgent, "planned": planned, "waiting": waiting}


def test_the_board_shows_shifts_assignments_and_appointments_in_their_cells(client, dispatcher, engineer, busy_branch):
    client.force_login(dispatcher)
    response = client.get(BOARD)
    assert response.status_code == 200
    grid = response.context["board"]
    lines = {line.engineer.pk: line for line in grid.lines}
    assert set(lines) == {engineer.pk, busy_branch["free"].pk}
    mine = lines[engineer.pk]
    assert [[item.number for item in cell.items] for cell in mine.cells][:3] == [
        [busy_branch["urgent"].number], [], [busy_branch["planned"].number]]
    assert mine.cells[2].items[0].appointment == shanghai(2026, 11, 28, 14, 30)
    assert all(len(cell.shifts) == 1 and cell.shifts[0].overnight for cell in mine.cells)  # every night
    assert (mine.status, mine.open_count, mine.on_call_now, mine.on_call_tonight) == (board.BUSY, 2, False, True)
    free = lines[busy_branch["free"].pk]
    assert (free.status, free.on_call_now, free.on_call_tonight) == (board.FREE, True, False)
    assert [len(cell.shifts) for cell in free.cells] == [1, 0, 0, 0, 0, 0, 0]  # Thursdays only: next week is off the board
    page = response.content.decode()
    assert f'data-due="{int(busy_branch["urgent"].next_due_at.timestamp() * 1000)}"' in page  # its live countdown
    assert f'data-request="{busy_branch["urgent"].pk}"' in page
    assert 'data-slot="inspection-rounds"' in page  # the marked place for inspection rounds
    assert [item["pk"] for item in response.context["waiting"]] == [busy_branch["waiting"].pk]
    assert 'nonce="' in page and "style=" not in page  # the CSP: no inline style


def test_assigning_from_the_board_dispatches_writes_the_timeline_and_notifies(client, dispatcher, busy_branch):
    waiting, free = busy_branch["waiting"], busy_branch["free"]
    client.force_login(dispatcher)
    response = client.post(BOARD, {"request": waiting.pk, "version": current_version(waiting), "engineer": free.pk})
    assert response.status_code == 302 and response["Location"].startswith(BOARD)
    waiting.refresh_from_db()
    assert waiting.state == State.DISPATCHED and waiting.assignee == free
    event = TimelineEvent.objects.filter(request=waiting, kind=EventKind.DISPATCHED).get()
    assert event.actor == dispatcher and event.data["engineer"] == free.pk
    assert OutboxMessage.objects.filter(event="request_assigned", recipient_user=free).exists()
    page = client.get(response["Location"])
    assert page.context["waiting"] == []
    line = next(line for line in page.context["board"].lines if line.engineer.pk == free.pk)
    assert [item.pk for item in line.cells[0].items] == [waiting.pk] and line.status == board.BUSY


def test_a_stale_version_gives_the_conflict_message_and_changes_nothing(client, dispatcher, busy_branch):
    waiting, free = busy_branch["waiting"], busy_branch["free"]
    seen = current_version(waiting)
    verbs.pause(request=waiting, by=dispatcher, version=seen, reason="业主要求稍后联系")  # someone else, meanwhile
    verbs.resume(request=waiting, by=dispatcher, version=current_version(waiting))
    assert current_version(waiting) != seen
    client.force_login(dispatcher)
    response = client.post(BOARD, {"request": waiting.pk, "version": seen, "engineer": free.pk},
                           headers={"HX-Request": "true"})
    assert response.status_code == 409
    with translation.override("zh-hans"):  # the page's language
        conflict = translation.gettext("Someone else changed this record. Reload it and try again.")
    assert conflict in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.state == State.NEW and waiting.assignee is None
    item = next(item for item in response.context["waiting"] if item["pk"] == waiting.pk)
    assert item["errors"] and item["version"] == current_version(waiting)  # sending again is a deliberate choice
    plain = client.post(BOARD, {"request": waiting.pk, "version": seen, "engineer": free.pk})
    assert plain.status_code == 200 and plain.context["waiting"][0]["errors"]


def test_a_missing_engineer_or_one_of_another_branch_is_a_form_error(client, dispatcher, busy_branch, branch_b):
    waiting = busy_branch["waiting"]
    stranger = make_engineer("stranger", branch_b)
    client.force_login(dispatcher)
    for engineer in ("", stranger.pk):
        response = client.post(BOARD, {"request": waiting.pk, "version": current_version(waiting), "engineer": engineer})
        assert response.status_code == 200
        assert response.context["waiting"][0]["errors"]
    assert ServiceRequest.objects.get(pk=waiting.pk).assignee is None


def test_another_branchs_engineers_and_requests_are_never_shown(client, dispatcher, busy_branch, branch_b, project_b,
                                                               general_manager):
    other_engineer = make_engineer("other_eng", branch_b, full_name="外地工程师")
    foreign = open_request(general_manager, project_b, Priority.SERIOUS, "外地请求")
    foreign_assigned = open_request(general_manager, project_b, Priority.SERIOUS, "外地派工")
    verbs.dispatch(request=foreign_assigned, by=general_manager, version=current_version(foreign_assigned),
                   engineer=other_engineer)
    client.force_login(dispatcher)
    for url in (BOARD, f"{BOARD}?branch={branch_b.pk}"):  # asking for another branch shows one's own
        response = client.get(url)
        page = response.content.decode()
        assert response.context["branch"] == dispatcher.branch
        assert "外地工程师" not in page and foreign.number not in page and foreign_assigned.number not in page
        assert other_engineer.pk not in {line.engineer.pk for line in response.context["board"].lines}
    # Assigning another branch's request from the board: as missing.
    response = client.post(BOARD, {"request": foreign.pk, "version": current_version(foreign),
                                   "engineer": busy_branch["free"].pk})
    assert response.status_code == 404
    # A manager who sees every branch chooses one.
    client.force_login(general_manager)
    response = client.get(f"{BOARD}?branch={branch_b.pk}")
    assert [line.engineer.pk for line in response.context["board"].lines] == [other_engineer.pk]
    assert [item["pk"] for item in response.context["waiting"]] == [foreign.pk]


def test_a_customer_user_and_an_engineer_get_403(client, customer_user_a, engineer):
    for user in (customer_user_a, engineer):
        client.force_login(user)
        assert client.get(BOARD).status_code == 403
        assert client.post(BOARD, {"request": 1, "version": 1, "engineer": 1}).status_code == 403


def test_the_desk_and_the_menu_link_to_the_board(client, dispatcher):
    client.force_login(dispatcher)
    page = client.get(reverse("service:desk")).content.decode()
    assert page.count(f'href="{BOARD}"') >= 2  # the menu and the desk's header


def test_the_board_costs_a_fixed_number_of_queries(client, frozen_clock, dispatcher, project_a, branch_a):
    def grow(count: int):
        start = len(ServiceRequest.objects.all())
        for n in range(count):
            person = make_engineer(f"eng{start}-{n}", branch_a)
            OnCallShiftFactory(user=person, branch=branch_a, start_time=time(8), end_time=time(20))
            OnCallShiftFactory(user=person, branch=branch_a, start_time=time(20), end_time=time(8), weekday=n % 7)
            for priority in (Priority.SERIOUS, Priority.GENERAL):
                request = open_request(dispatcher, project_a, priority)
                verbs.dispatch(request=request, by=dispatcher, version=current_version(request), engineer=person)
            open_request(dispatcher, project_a)  # waiting

    def measure() -> int:
        client.get(BOARD)  # warm the per-worker caches (permissions, the menu)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(BOARD)
        assert response.status_code == 200
        return len(queries)

    client.force_login(dispatcher)
    grow(2)
    few = measure()
    grow(8)
    many = measure()
    assert len(client.get(BOARD).context["board"].lines) == 10
    assert few == many
    assert many <= 10  # 8 today: session, user, branches, engineers, shifts, assignments, waiting, the bell


@pytest.mark.parametrize(("role", "expected"), [
    ("customer_user_a", 403), ("engineer", 403), ("dispatcher", 200), ("manager", 200), ("general_manager", 200),
    ("admin_user", 200),
])
def test_the_board_for_each_role(role, expected, client, request, frozen_clock, branch_a, branch_b):
    client.force_login(request.getfixturevalue(role))
    assert client.get(BOARD).status_code == expected


def test_anonymous_goes_to_the_login_page(client):
    response = client.get(BOARD)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
