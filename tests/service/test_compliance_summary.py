"""RPT-1 (part): the monthly SLA compliance summary, computed by the database, local half-open months."""

from datetime import timedelta

from aftersales.service import sweep, verbs
from aftersales.service.models import Target

from ..conftest import api_as
from ..factories import current_version
from .conftest import shanghai


def test_summary_counts_met_missed_and_times_per_target_and_priority(frozen_clock, dispatcher, engineer, project_a, project_b):
    frozen_clock.move_to(shanghai(2026, 3, 31, 23, 30))  # still March in Shanghai (15:30 UTC)
    in_time = verbs.open_request(by=dispatcher, project=project_a, priority="general", channel="phone", title="a",
                                 description="d")
    frozen_clock.shift(timedelta(minutes=20))
    verbs.reply(request=in_time, by=dispatcher, version=current_version(in_time), mode="phone", plan="电话指导")
    late = verbs.open_request(by=dispatcher, project=project_a, priority="general", channel="phone", title="b",
                              description="d")
    frozen_clock.shift(timedelta(hours=3))  # April now; `late` is replied after its 2 h
    sweep.sweep()
    verbs.reply(request=late, by=dispatcher, version=current_version(late), mode="phone", plan="电话指导")
    verbs.open_request(by=dispatcher, project=project_b, priority="general", channel="phone", title="other branch",
                       description="d")
    response = api_as(dispatcher).get("/api/reports/sla-compliance/?month=2026-03")
    assert response.status_code == 200, response.json()
    rows = {(r["target"], r["priority"]): r for r in response.json()["rows"]}
    reply = rows[("reply", "general")]
    assert (reply["met"], reply["missed"]) == (1, 1)
    assert reply["met_percent"] == 50.0
    assert reply["median_minutes"] == 20
    april = api_as(dispatcher).get("/api/reports/sla-compliance/?month=2026-04").json()["rows"]
    assert all(r["met"] + r["missed"] == 0 for r in april)  # the branch-B request is not the dispatcher's


def test_bad_period_is_a_400(dispatcher):
    client = api_as(dispatcher)
    assert client.get("/api/reports/sla-compliance/?month=2026-13").status_code == 400
    assert client.get("/api/reports/sla-compliance/?month=2026-01&year=2026").status_code == 400
