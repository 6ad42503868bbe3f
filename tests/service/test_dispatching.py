"""SRQ-6: suggestions ranked by duty, specialty, distance and load, each with its reasons."""

from datetime import time

from aftersales.accounts import roles
from aftersales.accounts.models import Position, Specialty
from aftersales.core import clock
from aftersales.service import dispatching, verbs

from ..factories import BranchFactory, OnCallShiftFactory, StaffFactory


def test_on_duty_specialist_nearest_comes_first_and_reasons_are_given(frozen_clock, dispatcher, project_a, branch_a):
    far_branch = BranchFactory(name="固原办事处", code="gy", latitude=36.0159, longitude=106.2424)
    on_duty_far = StaffFactory(username="far", branch=far_branch, position=Position.ENGINEER, specialty=Specialty.COMPUTING, role=roles.ENGINEER)
    on_duty_near = StaffFactory(username="near", branch=branch_a, position=Position.ENGINEER, specialty=Specialty.COMPUTING, role=roles.ENGINEER)
    wrong_specialty = StaffFactory(username="mech", branch=branch_a, position=Position.ENGINEER,
                                   specialty=Specialty.ELECTROMECHANICAL, role=roles.ENGINEER)
    off_duty = StaffFactory(username="off", branch=branch_a, position=Position.ENGINEER, specialty=Specialty.COMPUTING, role=roles.ENGINEER)
    for engineer in (on_duty_far, on_duty_near, wrong_specialty):
        OnCallShiftFactory(user=engineer, branch=branch_a, start_time=time(0), end_time=time(0))
    request = verbs.open_request(by=dispatcher, project=project_a, priority="serious", channel="phone", title="t",
                                 description="d")
    request.specialty = Specialty.COMPUTING
    ranked = dispatching.suggest(request, at=clock.now())
    names = [s.engineer.username for s in ranked]
    assert names == ["near", "far", "mech", "off"]
    near = ranked[0]
    assert near.on_duty and near.specialty_match and near.distance_km < 20
    assert ranked[1].distance_km > 200  # Guyuan is about 270 km south of Yinchuan
    assert len(near.reasons) == 4


def test_load_breaks_ties():
    a = dispatching.Suggestion("a", True, True, 5.0, load=3)
    b = dispatching.Suggestion("b", True, True, 5.0, load=1)
    assert [s.engineer for s in dispatching.rank([a, b])] == ["b", "a"]
