"""Daily logs (issue 25 §2): requests of customer A's and B's projects, a visit and a work order of the engineer on
the frozen day, and a helper to start a day with one entry."""

from datetime import timedelta

import pytest

from aftersales.accounts import roles
from aftersales.core import clock
from aftersales.journal import services
from aftersales.service import verbs
from aftersales.service.models import Visit, WorkOrder

from ..factories import StaffFactory, current_version


def open_request(project, by, title="三号摄像机黑屏"):
    return verbs.open_request(by=by, project=project, priority="general", channel="phone", title=title,
                              description="监控中心三号摄像机无图像")


def day_with_entry(user, project, *, day=None, minutes=60, visible_to_customer=False, what="巡检摄像机"):
    log = services.start_day(by=user, day=day or clock.today())
    entry = services.add_entry(log=log, by=user, version=current_version(log), project=project, what=what,
                               minutes=minutes, visible_to_customer=visible_to_customer)
    log.refresh_from_db()
    return log, entry


@pytest.fixture
def request_a(project_a, dispatcher):
    return open_request(project_a, dispatcher)


@pytest.fixture
def request_b(project_b, branch_b):
    desk_b = StaffFactory(username="desk_b", branch=branch_b, role=roles.DISPATCHER)
    return open_request(project_b, desk_b)


@pytest.fixture
def engineer_b(branch_b):
    return StaffFactory(username="engineer_b", branch=branch_b, role=roles.ENGINEER)


@pytest.fixture
def engineer_day(frozen_clock, engineer, request_a):
    """The engineer's frozen day: on site for request A from 09:00 to 10:30, then a work order written."""
    now = clock.now()
    Visit.objects.create(request=request_a, engineer=engineer, departed_at=now - timedelta(hours=1, minutes=30),
                         arrived_at=now - timedelta(hours=1), left_at=now + timedelta(minutes=30))
    WorkOrder.objects.create(request=request_a, engineer=engineer, actions="更换摄像机电源", minutes_spent=50,
                             result="solved")
    return request_a
