"""A month of a customer's service, built through the verbs at fixed instants (October 2026, Asia/Shanghai)."""

from datetime import datetime

import pytest

from aftersales.core import clock
from aftersales.service import verbs

from ..factories import current_version


def at(*args) -> datetime:
    return datetime(*args, tzinfo=clock.SHANGHAI)


def open_at(frozen_clock, when, *, by, project, title, priority="general", devices=()):
    frozen_clock.move_to(when)
    return verbs.open_request(by=by, project=project, priority=priority, channel="portal", title=title,
                              description="现场图像中断", devices=devices)


@pytest.fixture
def october(frozen_clock, customer_user_a, project_a, device_a, dispatcher):
    """Customer A's October: R1 replied in time, R2 replied late, R3 paused (owner's power cut), R4 opened at 23:30 on
    the 31st (inside), R5 opened at 00:00 on 1 November (outside)."""
    customer_user_a.email = "a@customer-a.example"
    customer_user_a.save(update_fields=["email"])
    r1 = open_at(frozen_clock, at(2026, 10, 12, 10), by=customer_user_a, project=project_a, title="一号录像机离线",
                 devices=[device_a])
    frozen_clock.move_to(at(2026, 10, 12, 10, 5))
    verbs.reply(request=r1, by=dispatcher, version=current_version(r1), mode="remote", plan="远程重启")
    r2 = open_at(frozen_clock, at(2026, 10, 13, 10), by=customer_user_a, project=project_a, title="二号摄像机黑屏")
    frozen_clock.move_to(at(2026, 10, 15, 10))
    verbs.reply(request=r2, by=dispatcher, version=current_version(r2), mode="remote", plan="远程检查")
    r3 = open_at(frozen_clock, at(2026, 10, 14, 10), by=customer_user_a, project=project_a, title="三号存储告警",
                 priority="serious")
    frozen_clock.move_to(at(2026, 10, 14, 10, 1))
    verbs.pause(request=r3, by=dispatcher, version=current_version(r3), reason="业主机房停电")
    r4 = open_at(frozen_clock, at(2026, 10, 31, 23, 30), by=customer_user_a, project=project_a, title="月末报修")
    r5 = open_at(frozen_clock, at(2026, 11, 1, 0, 0), by=customer_user_a, project=project_a, title="月初报修")
    frozen_clock.move_to(at(2026, 11, 2, 9))
    return {"r1": r1, "r2": r2, "r3": r3, "r4": r4, "r5": r5}


def month_of_work(frozen_clock, *, contact, project, device, by, engineer, tag):
    """One customer's October beyond the requests: a request worked remotely (its charge sheet), a repair case with a
    spare unit lent, a training session held, the month's survey and a monthly inspection plan. `tag` makes each
    name this customer's own."""
    from datetime import date, timedelta

    from aftersales.inspections import services as inspections
    from aftersales.repairs import services as repairs
    from aftersales.training import services as training
    from aftersales.visits import services as visits

    frozen_clock.move_to(at(2026, 10, 2, 9))
    checklist = inspections.create_checklist(by=by, category=device.category, name=f"{tag}巡检表",
                                             items=[{"kind": "pass_fail", "label": f"{tag}图像清晰"}])
    plan = inspections.create_plan(by=by, project=project, name=f"{tag}月度巡检", cadence="monthly",
                                   starts_on=date(2026, 10, 1), checklists=[checklist], engineers=[engineer])
    request = open_at(frozen_clock, at(2026, 10, 8, 10), by=contact, project=project, title=f"{tag}远程故障",
                      devices=[device])
    frozen_clock.move_to(at(2026, 10, 8, 10, 10))
    verbs.reply(request=request, by=by, version=current_version(request), mode="remote", plan="远程处理")
    verbs.submit_work_order(request=request, by=by, version=current_version(request), actions=f"{tag}重启",
                            minutes_spent=20, result="solved")
    frozen_clock.move_to(at(2026, 10, 9, 10))
    case = repairs.open_case(by=by, device=device, fault=f"{tag}无图像")
    loan = repairs.lend_unit(case=case, by=by, version=case.version, unit_serial=f"{tag}-SPARE-9",
                             unit_model=f"{tag}备用机", due_back_on=date(2026, 10, 30))
    frozen_clock.move_to(at(2026, 10, 10, 9))
    start = at(2026, 10, 15, 9)
    session = training.plan_session(by=by, project=project, title=f"{tag}交接培训", kind="handover", venue="on_site",
                                    starts_at=start, ends_at=start + timedelta(hours=2), content="回放", vendor_trainers="厂商 王工",
                                    attendees=[training.AttendeeIn(f"{tag}学员")])
    frozen_clock.move_to(at(2026, 10, 15, 12))
    session = training.record_held(session=session, by=by, version=session.version,
                                   present=list(session.attendees.all()))
    survey = visits.create_survey(by=by, project=project, send=False)
    frozen_clock.move_to(at(2026, 11, 1, 2))
    return {"request": request, "case": case, "loan": loan, "session": session, "survey": survey, "plan": plan}
