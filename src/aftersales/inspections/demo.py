"""Demo inspections (issue 23 §1, §3), loaded through the verbs and dated from today: the default checklists, four
plans over the demo projects and a year of rounds — done (with findings now and then), missed (most with a reason,
one still waiting for it), one started without the customer's approval (overridden, with its reason), approved ones,
one in progress this month, and the coming ones (awaiting approval on the hospital's quarterly plan)."""

import random
import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile

from aftersales.accounts.models import User
from aftersales.assets.models import Device
from aftersales.core import clock
from aftersales.customers.models import Project

from . import schedule, services
from .models import ChecklistTemplate, InspectionPlan, InspectionRound, ItemKind, RoundState

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
MISSED_REASONS = ["客户机房装修,无法进场", "春节假期客户停工,已与客户确认顺延至下月", "工程师抢修紧急故障,未能按期巡检"]
FINDING_NOTES = ["镜头有污渍,已清洁后复查", "画面偏暗,建议更换补光灯", "硬盘告警,建议尽快更换"]


def _at(day, hour, minute=0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=clock.SHANGHAI)


def _chosen(project, codes: dict[str, int]) -> list[Device]:
    devices = []
    for code, n in codes.items():
        devices += list(Device.objects.filter(project=project, category__code=code).order_by("pk")[:n])
    return devices


def _record(round_, engineer, rng, *, start, complete=True):
    """Start at `start` (the phone's time), answer every item a minute apart, complete at the end."""
    services.start_round(round=round_, by=engineer, version=round_.version, started_at=start)
    round_.refresh_from_db()
    minute = 5
    for check in round_.checks.select_related("device").order_by("position"):
        for item in check.checklist.items.order_by("position"):
            finding = rng.random() < 0.04
            values = {}
            if item.kind == ItemKind.PASS_FAIL:
                values["passed"] = not finding
            elif item.kind == ItemKind.READING:
                low, high = item.min_value, item.max_value
                values["reading"] = (low - 5 if finding and low is not None else
                                     (high + 5 if finding and high is not None else
                                      (low if low is not None else Decimal(0)) + Decimal(rng.randint(1, 10))))
                if high is not None and not finding:
                    values["reading"] = min(values["reading"], high)
            elif item.kind == ItemKind.TEXT:
                values["text"] = "运行正常"
            if item.kind == ItemKind.PHOTO or item.evidence_required or (finding and item.kind == ItemKind.PASS_FAIL):
                values["photo"] = ContentFile(PNG, name="photo.png")
            if finding:
                values["note"] = rng.choice(FINDING_NOTES)
            services.record_answer(round=round_, by=engineer, device=check.device, item=item, client_id=uuid.uuid4(),
                                   answered_at=start + timedelta(minutes=minute),
                                   latitude=Decimal("38.487212"), longitude=Decimal("106.230909"), accuracy_m=15,
                                   **values)
            minute += 1
        if not complete and check.position >= 2:
            return
    round_.refresh_from_db()
    services.complete_round(round=round_, by=engineer, version=round_.version,
                            completed_at=start + timedelta(minutes=minute + 5),
                            summary="设备运行总体正常;发现问题已现场处理或记录,建议按时更换老化部件。")


def load() -> dict:
    if InspectionPlan.objects.exists():
        return {"plans": 0}
    people = {u.username: u for u in User.objects.filter(username__in=["manager", "engineer", "engineer2", "engineer3",
                                                                       "sh_engineer", "gm"])}
    projects = {p.contract_number: p for p in Project.objects.all()}
    if "manager" not in people or "NXZD-2021-031" not in projects:
        return {"plans": 0}
    manager = people["manager"]
    services.ensure_default_checklists(by=manager)
    checklists = {c.category.code: c for c in ChecklistTemplate.objects.select_related("category")}
    rng = random.Random(23)
    today = clock.today()
    year_ago = (today.replace(day=1) - timedelta(days=365)).replace(day=1)

    def plan(number, name, cadence, codes, engineers, by=manager, **extra):
        project = projects.get(number)
        if project is None:
            return None
        devices = _chosen(project, codes)
        lists = [checklists[code] for code in codes if code in checklists]
        if not devices or not lists:
            return None
        created = services.create_plan(by=by, project=project, name=name, cadence=cadence, starts_on=year_ago,
                                       checklists=lists, engineers=[people[e] for e in engineers if e in people],
                                       selection="chosen", devices=[d for d in devices if d.category.code in codes],
                                       today=year_ago, **extra)
        month = year_ago
        while month <= today:  # the worker's runs over the past year, then today's
            services.generate_rounds(plan=created, today=month)
            month = schedule.period_start(month + timedelta(days=32), schedule.MONTHLY)
        services.generate_rounds(plan=created, today=today)
        return created

    skynet = plan("NXZD-2021-031", "天网三期月度巡检", "monthly", {"camera": 4, "nvr": 1, "switch": 1},
                  ["engineer", "engineer2"], anchor_day=10)
    traffic = plan("NXZD-2023-007", "交通卡口月末巡检", "monthly", {"camera": 3, "switch": 1, "server": 1},
                   ["engineer3"], anchor_day=31)
    hospital = plan("NXZD-2022-018", "总医院安防季度巡检", "quarterly", {"access-control": 2, "camera": 2, "nvr": 1},
                    ["engineer"], anchor_day=20, anchor_month=1, needs_approval=True)
    metro = None
    if "sh_engineer" in people and "gm" in people:
        metro = plan("SHZD-2024-102", "地铁站视频监控月度巡检", "monthly", {"camera": 3, "nvr": 1},
                     ["sh_engineer"], by=people["gm"], anchor_day=15)
    plans = [p for p in (skynet, traffic, hospital, metro) if p is not None]

    left_to_miss = {(traffic, 3), (traffic, 8), (skynet, 6)}  # (plan, index of its past rounds): nobody went
    for each in plans:
        past_index = 0
        for round_ in InspectionRound.objects.filter(plan=each).order_by("due_on"):
            past = round_.window_end < today
            current = round_.period_start <= today <= round_.window_end
            if not (past or current):
                continue
            engineer = round_.engineer
            if round_.state == RoundState.AWAITING_APPROVAL:
                if past and past_index == 1:
                    services.override_approval(round=round_, by=manager, version=round_.version,
                                               reason="客户口头同意,书面确认随后补签")
                else:
                    services.record_approval(round=round_, at=_at(round_.period_start, 10),
                                             note="客户已确认巡检窗口")
                round_.refresh_from_db()
            if current:
                if each == skynet:  # in progress this month: started an hour ago, a few devices answered
                    if engineer != people["engineer"]:  # the demo's engineer login has it (a reassignment)
                        services.reassign_round(round=round_, by=manager, version=round_.version,
                                                engineer=people["engineer"])
                        round_.refresh_from_db()
                        engineer = round_.engineer
                    _record(round_, engineer, rng, start=clock.now() - timedelta(hours=1), complete=False)
                continue
            past_index += 1
            if (each, past_index) in left_to_miss:
                continue  # the worker marks it missed below
            _record(round_, engineer, rng, start=_at(round_.due_on, 9))
    missed = services.mark_missed_rounds(today=today)
    for n, pk in enumerate(missed[:-1] if len(missed) > 1 else []):  # one stays without a reason, to be explained
        round_ = InspectionRound.objects.get(pk=pk)
        services.explain_missed(round=round_, by=manager, version=round_.version, reason=MISSED_REASONS[n % 3])
    from .approval_demo import load as load_approvals  # issue 23 §2: windows proposed, approved by link, waiting

    gate = load_approvals(plan=hospital, manager=manager)
    from .report_demo import load as load_reports  # issue 23 §5, §6: findings handled, reports signed and waiting

    reported = load_reports(manager=manager)
    return {"plans": len(plans), "rounds": InspectionRound.objects.count(), "missed": len(missed), **gate, **reported}
