"""RPT-1: the report figures against hand-computed fixtures (empty months, month ends in Asia/Shanghai, paused and
not-applicable targets, nearest-rank percentiles, scoping)."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from aftersales.billing.models import ChargeLine, ChargeSheet
from aftersales.inspections.models import InspectionPlan, InspectionRound, RoundState
from aftersales.reports import figures
from aftersales.reports.figures import Filters, Period
from aftersales.service import verbs
from aftersales.service.models import (
    AlertKind,
    Pause,
    ServiceRequest,
    SlaAlert,
    State,
    Target,
    WorkOrder,
)

from ..factories import DeviceFactory, ManufacturerFactory

SH = ZoneInfo("Asia/Shanghai")
MARCH, APRIL = Period.month(2026, 3), Period.month(2026, 4)


def shanghai(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def open_at(clock, when, project, by, priority="general", devices=()):
    clock.move_to(when)
    return verbs.open_request(by=by, project=project, priority=priority, channel="phone", title="t", description="d",
                              devices=list(devices))


def set_reply(request, *, took_minutes=None, breached=False, due_minutes=120):
    """The reply target, written as the clock would have: met `took_minutes` after its start, or not."""
    target = Target.objects.get(request=request, kind="reply")
    target.due_at = target.started_at + timedelta(minutes=due_minutes)
    target.met_at = target.started_at + timedelta(minutes=took_minutes) if took_minutes is not None else None
    target.breached_at = target.due_at if breached else None
    target.save()


def by_cell(rows):
    return {(row["target"], row["priority"]): row for row in rows}


def test_an_empty_month_has_no_rows_and_no_averages(dispatcher):
    filters = Filters(period=MARCH)
    assert figures.sla_compliance(dispatcher, filters) == []
    assert figures.escalations(dispatcher, filters) == []
    assert figures.satisfaction(dispatcher, filters) == {"n": 0, "average": None,
                                                          "distribution": {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}}
    assert figures.inspection_completion(dispatcher, filters) == {"due": 0, "done": 0, "missed": 0, "overridden": 0,
                                                                   "percent": None}
    assert figures.failures_by_model(dispatcher, filters) == []
    assert figures.warranty_costs(dispatcher, filters) == []
    assert figures.expiries(dispatcher, date(2026, 3, 1)) == {"warranties": 0, "contracts": 0}


def test_23_30_on_the_last_day_is_that_month_and_midnight_is_the_next(frozen_clock, dispatcher, project_a):
    last_evening = open_at(frozen_clock, shanghai(2026, 3, 31, 23, 30), project_a, dispatcher)  # 15:30 UTC
    midnight = open_at(frozen_clock, shanghai(2026, 4, 1, 0, 0), project_a, dispatcher)  # 16:00 UTC on 31 March
    march = by_cell(figures.sla_compliance(dispatcher, Filters(period=MARCH)))
    april = by_cell(figures.sla_compliance(dispatcher, Filters(period=APRIL)))
    assert march[("reply", "general")]["n"] == april[("reply", "general")]["n"] == 1
    assert list(figures.rows("sla_n", dispatcher, Filters(period=MARCH), target="reply", priority="general")) == [
        last_evening]
    assert list(figures.rows("sla_n", dispatcher, Filters(period=APRIL), target="reply", priority="general")) == [
        midnight]
    assert figures.sla_compliance(dispatcher, Filters(period=Period.month(2026, 2))) == []


@pytest.fixture
def march_requests(frozen_clock, dispatcher, project_a):
    """Five general requests opened in March; reply met after 10, 30 and (late, breached) 200 minutes, one still
    running, one cancelled while its reply was running (not applicable). General requests have no departure rule
    and their arrival is on-site only: both not applicable to these phone requests."""
    made = [open_at(frozen_clock, shanghai(2026, 3, 10 + i, 9), project_a, dispatcher) for i in range(5)]
    fast, slow, late, running, cancelled = made
    set_reply(fast, took_minutes=10)
    set_reply(slow, took_minutes=30)
    set_reply(late, took_minutes=200, breached=True)
    set_reply(running)
    ServiceRequest.objects.filter(pk=cancelled.pk).update(state=State.CANCELLED)
    # `slow` paused 45 min (closed); `running` paused from 31 March 23:00, still open: clipped at the month's end
    Pause.objects.create(request=slow, started_at=shanghai(2026, 3, 11, 10), ended_at=shanghai(2026, 3, 11, 10, 45),
                         reason="等客户", by=dispatcher)
    Pause.objects.create(request=running, started_at=shanghai(2026, 3, 31, 23), reason="等配件", by=dispatcher)
    frozen_clock.move_to(shanghai(2026, 5, 2, 9))
    return dict(zip(["fast", "slow", "late", "running", "cancelled"], made))


def test_compliance_counts_met_missed_undecided_and_not_applicable(dispatcher, march_requests):
    cells = by_cell(figures.sla_compliance(dispatcher, Filters(period=MARCH)))
    reply = cells[("reply", "general")]
    assert {k: reply[k] for k in ("n", "met", "missed", "undecided", "not_applicable", "met_percent")} == {
        "n": 5, "met": 2, "missed": 1, "undecided": 1, "not_applicable": 1, "met_percent": 66.7}
    assert (reply["median_minutes"], reply["p90_minutes"]) == (30, 200)  # ranks 2 and 3 of [10, 30, 200]
    assert reply["paused_seconds"] == 45 * 60 + 60 * 60  # 45 min closed + 23:00–24:00 of the open pause
    departure, arrival = cells[("departure", "general")], cells[("arrival", "general")]
    assert (departure["n"], departure["not_applicable"], departure["met_percent"]) == (5, 5, None)
    assert (arrival["not_applicable"], arrival["paused_seconds"], arrival["median_minutes"]) == (5, 0, None)
    resolution = cells[("resolution", "general")]
    assert (resolution["undecided"], resolution["not_applicable"]) == (4, 1)  # the cancelled one


def test_each_number_lists_exactly_the_requests_it_counts(dispatcher, march_requests):
    filters = Filters(period=MARCH)
    key = {"target": "reply", "priority": "general"}
    assert set(figures.rows("sla_met", dispatcher, filters, **key)) == {march_requests["fast"], march_requests["slow"]}
    assert list(figures.rows("sla_missed", dispatcher, filters, **key)) == [march_requests["late"]]
    assert list(figures.rows("sla_undecided", dispatcher, filters, **key)) == [march_requests["running"]]
    assert list(figures.rows("sla_not_applicable", dispatcher, filters, **key)) == [march_requests["cancelled"]]
    assert figures.rows("sla_not_applicable", dispatcher, filters, target="arrival", priority="general").count() == 5


def test_an_open_pause_is_counted_until_now_when_the_period_has_not_ended(frozen_clock, dispatcher, project_a):
    request = open_at(frozen_clock, shanghai(2026, 3, 10, 9), project_a, dispatcher)
    Pause.objects.create(request=request, started_at=shanghai(2026, 3, 10, 10), reason="等客户", by=dispatcher)
    frozen_clock.move_to(shanghai(2026, 3, 10, 12, 30))
    reply = by_cell(figures.sla_compliance(dispatcher, Filters(period=MARCH)))[("reply", "general")]
    assert reply["paused_seconds"] == 150 * 60


def test_p90_of_ten_met_targets_is_the_ninth(frozen_clock, dispatcher, project_a):
    made = [open_at(frozen_clock, shanghai(2026, 3, 2, 8, i), project_a, dispatcher) for i in range(10)]
    for minutes, request in zip([5, 1, 9, 3, 7, 2, 10, 4, 8, 6], made):
        set_reply(request, took_minutes=minutes)
    reply = by_cell(figures.sla_compliance(dispatcher, Filters(period=MARCH)))[("reply", "general")]
    assert (reply["median_minutes"], reply["p90_minutes"], reply["met"]) == (5, 9, 10)


def test_a_customer_user_sees_only_its_own_requests(frozen_clock, dispatcher, general_manager, customer_user_a,
                                                    project_a, project_b):
    open_at(frozen_clock, shanghai(2026, 3, 5, 9), project_a, dispatcher)
    open_at(frozen_clock, shanghai(2026, 3, 5, 10), project_b, general_manager)
    open_at(frozen_clock, shanghai(2026, 3, 5, 11), project_b, general_manager)
    mine = by_cell(figures.sla_compliance(customer_user_a, Filters(period=MARCH)))
    everything = by_cell(figures.sla_compliance(general_manager, Filters(period=MARCH)))
    assert (mine[("reply", "general")]["n"], everything[("reply", "general")]["n"]) == (1, 3)
    other = Filters(period=MARCH, customer_id=project_b.customer_id)
    assert figures.sla_compliance(customer_user_a, other) == []  # another customer's id shows nothing
    assert figures.rows("sla_n", customer_user_a, other, target="reply", priority="general").count() == 0


def test_filters_narrow_by_priority_engineer_and_device_model(frozen_clock, dispatcher, engineer, project_a):
    camera = DeviceFactory(project=project_a, model="DS-2CD")
    open_at(frozen_clock, shanghai(2026, 3, 5, 9), project_a, dispatcher, devices=[camera])
    assigned = open_at(frozen_clock, shanghai(2026, 3, 5, 10), project_a, dispatcher, priority="serious")
    ServiceRequest.objects.filter(pk=assigned.pk).update(assignee=engineer)
    assert {r["priority"] for r in figures.sla_compliance(dispatcher, Filters(period=MARCH, priority="serious"))} == {
        "serious"}
    assert {r["priority"] for r in figures.sla_compliance(dispatcher, Filters(period=MARCH, engineer_id=engineer.pk))} == {
        "serious"}
    assert {r["priority"] for r in figures.sla_compliance(dispatcher, Filters(period=MARCH, device_model="DS-2CD"))} == {
        "general"}


def test_escalations_one_row_per_request_at_its_highest_level(frozen_clock, dispatcher, project_a):
    request = open_at(frozen_clock, shanghai(2026, 3, 5, 9), project_a, dispatcher)
    SlaAlert.objects.create(request=request, target="reply", kind=AlertKind.ESCALATION, level=1,
                            fired_at=shanghai(2026, 3, 5, 11))
    SlaAlert.objects.create(request=request, target="reply", kind=AlertKind.ESCALATION, level=2,
                            fired_at=shanghai(2026, 3, 5, 12))
    SlaAlert.objects.create(request=request, target="reply", kind=AlertKind.WARNING, level=0,
                            fired_at=shanghai(2026, 3, 5, 10))
    SlaAlert.objects.create(request=request, target="resolution", kind=AlertKind.ESCALATION, level=1,
                            fired_at=shanghai(2026, 4, 1, 0))  # April
    rows = figures.escalations(dispatcher, Filters(period=MARCH))
    assert [(r["request_id"], r["level"], r["target"]) for r in rows] == [(request.pk, 2, "reply")]
    assert list(figures.rows("escalations", dispatcher, Filters(period=MARCH))) == [request]
    assert figures.escalation_count(dispatcher, Filters(period=APRIL)) == 1


def test_satisfaction_average_and_distribution(frozen_clock, dispatcher, engineer, project_a):
    request = open_at(frozen_clock, shanghai(2026, 3, 5, 9), project_a, dispatcher)
    for score, confirmed in [(5, shanghai(2026, 3, 31, 23, 30)), (4, shanghai(2026, 3, 6)), (2, shanghai(2026, 3, 7)),
                             (1, shanghai(2026, 4, 1, 0)), (None, shanghai(2026, 3, 8))]:
        WorkOrder.objects.create(request=request, engineer=engineer, actions="换电源", minutes_spent=30,
                                 result="fixed", state="confirmed", confirmed_at=confirmed, satisfaction=score)
    found = figures.satisfaction(dispatcher, Filters(period=MARCH))
    assert found == {"n": 3, "average": 3.67, "distribution": {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}}
    assert figures.rows("satisfaction", dispatcher, Filters(period=MARCH), score="5").count() == 1


def test_inspection_completion_counts_the_rounds_due_in_the_month(dispatcher, project_a):
    plan = InspectionPlan.objects.create(project=project_a, customer=project_a.customer, branch=project_a.branch,
                                         name="月度巡检", cadence="monthly", starts_on=date(2026, 1, 1),
                                         anchor_day=1)
    for due, state, overridden in [(date(2026, 3, 31), RoundState.DONE, True), (date(2026, 3, 1), RoundState.MISSED, False),
                                   (date(2026, 3, 15), RoundState.SCHEDULED, False),
                                   (date(2026, 4, 1), RoundState.DONE, False)]:
        InspectionRound.objects.create(plan=plan, project=project_a, customer=project_a.customer,
                                       branch=project_a.branch, period_start=due, window_end=due,
                                       due_on=due, state=state,
                                       overridden_at=shanghai(2026, 3, 1) if overridden else None,
                                       override_reason="客户联系不上" if overridden else "",
                                       started_at=shanghai(2026, 3, 1) if state == RoundState.DONE else None,
                                       completed_at=shanghai(2026, 3, 2) if state == RoundState.DONE else None,
                                       missed_at=shanghai(2026, 3, 2) if state == RoundState.MISSED else None)
    assert figures.inspection_completion(dispatcher, Filters(period=MARCH)) == {
        "due": 3, "done": 1, "missed": 1, "overridden": 1, "percent": 33.3}
    assert figures.rows("inspections", dispatcher, Filters(period=MARCH), state="missed").count() == 1


def test_failures_per_installed_unit_and_mtbf(frozen_clock, dispatcher, project_a):
    hik = ManufacturerFactory(name="海康威视")
    cameras = [DeviceFactory(project=project_a, manufacturer=hik, model="DS-A") for _ in range(4)]
    DeviceFactory(project=project_a, manufacturer=hik, model="DS-B")
    open_at(frozen_clock, shanghai(2026, 3, 3, 9), project_a, dispatcher, devices=cameras[:2])
    open_at(frozen_clock, shanghai(2026, 3, 4, 9), project_a, dispatcher, devices=cameras[:1])
    rows = figures.failures_by_model(dispatcher, Filters(period=MARCH))
    assert rows == [{"manufacturer": "海康威视", "model": "DS-A", "failures": 3, "installed": 4, "per_unit": 0.75,
                     "mtbf_days": round(4 * 31 / 3, 1)}]
    assert figures.rows("failures", dispatcher, Filters(period=MARCH), manufacturer="海康威视", model="DS-A").count() == 3
    assert figures.rows("installed", dispatcher, Filters(period=MARCH), manufacturer="海康威视", model="DS-A").count() == 4


def test_costs_under_and_after_warranty_per_customer_and_model(frozen_clock, dispatcher, engineer, project_a):
    camera = DeviceFactory(project=project_a, model="DS-A")
    request = open_at(frozen_clock, shanghai(2026, 3, 5, 9), project_a, dispatcher)
    order = WorkOrder.objects.create(request=request, engineer=engineer, actions="换板", minutes_spent=60,
                                     result="fixed")
    sheet = ChargeSheet.objects.create(work_order=order, fault_day=date(2026, 3, 5), device=camera,
                                       customer_total=Decimal(80), integrator_total=Decimal(230),
                                       issued_at=shanghai(2026, 3, 31, 23, 59))
    for amount, cost, covered in [(0, 150, True), (80, 80, False)]:
        ChargeLine.objects.create(sheet=sheet, kind="part", description="主板", quantity=1, customer_amount=amount,
                                  integrator_cost=cost, covered=covered, basis="covered" if covered else "purchase_cost")
    [row] = figures.warranty_costs(dispatcher, Filters(period=MARCH))
    assert (row["customer"], row["model"], row["under_warranty_cost"], row["after_warranty_cost"],
            row["customer_charged"], row["lines"]) == (project_a.customer.name, "DS-A", 150, 80, 80, 2)
    assert figures.warranty_costs(dispatcher, Filters(period=APRIL)) == []
    assert figures.rows("warranty_costs", dispatcher, Filters(period=MARCH), customer=str(project_a.customer_id),
                        model="DS-A", covered="1").count() == 1


def test_expiries_count_warranties_ending_within_the_window(dispatcher, project_a):
    inside, outside = DeviceFactory(project=project_a), DeviceFactory(project=project_a)
    type(inside).objects.filter(pk=inside.pk).update(warranty_end=date(2026, 6, 1))
    type(outside).objects.filter(pk=outside.pk).update(warranty_end=date(2026, 9, 1))
    assert figures.expiries(dispatcher, date(2026, 3, 15))["warranties"] == 1


def test_unknown_figure_is_a_404(dispatcher):
    from django.http import Http404
    with pytest.raises(Http404):
        figures.rows("nope", dispatcher, Filters(period=MARCH))
    with pytest.raises(Http404):
        figures.rows("sla_met", dispatcher, Filters(period=MARCH), target="reply", priority="bogus")


@pytest.mark.parametrize("n", [2, 12])
def test_figures_cost_the_same_number_of_queries_for_2_or_12_requests(n, frozen_clock, dispatcher, project_a,
                                                                      django_assert_max_num_queries):
    for i in range(n):
        request = open_at(frozen_clock, shanghai(2026, 3, 2, 8, i), project_a, dispatcher)
        set_reply(request, took_minutes=i + 1)
    filters = Filters(period=MARCH)
    figures.expiries(dispatcher, date(2026, 3, 1))  # the user's permissions are read once (scope_of), then cached
    with django_assert_max_num_queries(3):
        figures.sla_compliance(dispatcher, filters)
    with django_assert_max_num_queries(1):
        figures.escalations(dispatcher, filters)
    with django_assert_max_num_queries(1):
        figures.satisfaction(dispatcher, filters)
    with django_assert_max_num_queries(2):
        figures.failures_by_model(dispatcher, filters)
