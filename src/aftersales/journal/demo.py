"""Demo daily logs (issue 25 §2): a year of logs for the demo engineers, so the calendar, the team's day and the
customer's service log have something to show.

Every working day (Monday to Friday) of the past year, each field engineer wrote a day with two or three entries on
their branch's projects, about a third of them visible to the customer, some linked to a request of the project; a
few days are missing (so the team's day shows who did not write), yesterday one engineer has not written yet, and
today one day is being written. Built with bulk_create (about 10,000 rows, 2-3 s) rather than through the
verbs: the verbs are tested, and a year through them would add a minute to `aftersales demo`."""

import random
from datetime import datetime, time, timedelta

from aftersales.accounts.models import User
from aftersales.core import clock
from aftersales.customers.models import Project
from aftersales.service.models import ServiceRequest

from .models import DailyLog, LogEntry, LogEvent, LogEventKind

ENGINEERS = ["engineer", "engineer2", "engineer3", "engineer4", "sh_engineer", "dispatcher", "logistics"]
OFFICE = {"dispatcher", "logistics"}  # desk and stores: office work, never shown to the customer
WORK = [
    ("巡检前端摄像机,清洁镜头 {n} 台,调整角度", True),
    ("检查硬盘录像机录像完整性,抽查回放 {n} 路", True),
    ("更换故障硬盘 1 块,重建阵列,录像恢复正常", True),
    ("核对卡口抓拍机时钟同步,校时 {n} 台", True),
    ("处理交换机端口告警,更换光模块", True),
    ("升级视频平台客户端至新版本,培训值班员操作", True),
    ("检查 UPS 电池组,放电测试正常", True),
    ("整理机房线缆,补贴设备标签 {n} 处", False),
    ("远程排查客户端回放卡顿,调整解码参数", False),
    ("编写巡检报告,整理故障设备清单", False),
    ("备件盘点,申领摄像机电源 {n} 个", False),
    ("与厂商技术支持沟通 NVR 固件问题", False),
]
OFFICE_WORK = [
    ("受理报修 {n} 单,回访已完成工单", False),
    ("跟进超时预警,协调工程师改派", False),
    ("备件出入库登记 {n} 笔,核对随车库存", False),
    ("整理维保合同到期清单,电话提醒客户续签", False),
]
PLACES = ["监控中心", "机房A", "东门出入口", "卡口杆件3号", "地下停车场B1", "公司办公室", "行政楼5楼", ""]


def at(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=clock.SHANGHAI)


def load(*, days: int = 365, seed: int = 25) -> dict:
    """Create the demo logs once (inside demo.data.load's transaction); a second call changes nothing."""
    if DailyLog.objects.exists():
        return {"logs": 0}
    rng = random.Random(seed)
    people = list(User.objects.filter(username__in=ENGINEERS, is_active=True).order_by("username"))
    projects: dict[int, list] = {}
    for project in Project.objects.order_by("pk"):
        projects.setdefault(project.branch_id, []).append(project)
    requests: dict[int, list[int]] = {}
    for pk, project_id in ServiceRequest.objects.order_by("pk").values_list("pk", "project_id"):
        requests.setdefault(project_id, []).append(pk)
    today = clock.today()
    logs, plans = [], []
    for person in people:
        mine = projects.get(person.branch_id)
        if not mine:
            continue
        for back in range(days, 0, -1):
            day = today - timedelta(days=back)
            if day.weekday() >= 5 or rng.random() < 0.04:  # weekends; now and then a day not written
                continue
            if back == 1 and person.username == "engineer2":  # yesterday: not written yet
                continue
            submitted = at(day, 18, rng.randint(0, 59)) if back > 1 or rng.random() < 0.5 else None
            logs.append(DailyLog(author=person, branch_id=person.branch_id, day=day, submitted_at=submitted))
            work = OFFICE_WORK if person.username in OFFICE else WORK
            plans.append([(rng.choice(mine), rng.choice(work), rng.choice(PLACES), rng.choice((30, 45, 60, 90, 120, 150)))
                          for _n in range(rng.choice((2, 2, 3, 3, 4)))])
    # today: engineer3's day is being written
    writer = next((p for p in people if p.username == "engineer3" and projects.get(p.branch_id)), None)
    if writer and today.weekday() < 5:
        logs.append(DailyLog(author=writer, branch_id=writer.branch_id, day=today))
        plans.append([(projects[writer.branch_id][0], WORK[0], "监控中心", 90)])
    logs = DailyLog.objects.bulk_create(logs, batch_size=500)
    entries, links, events = [], [], []
    for log, plan in zip(logs, plans):
        started = at(log.day, 8, 30)
        events.append(LogEvent(log=log, kind=LogEventKind.STARTED, at=started, actor_id=log.author_id))
        for project, (text, shown), place, minutes in plan:
            entries.append(LogEntry(log=log, day=log.day, author_id=log.author_id, project=project,
                                    what=text.format(n=rng.randint(2, 12)), place=place, minutes=minutes,
                                    visible_to_customer=shown and rng.random() < 0.6, created_at=started))
        if log.submitted_at:
            events.append(LogEvent(log=log, kind=LogEventKind.SUBMITTED, at=log.submitted_at, actor_id=log.author_id))
    entries = LogEntry.objects.bulk_create(entries, batch_size=1000)
    for entry in entries:
        candidates = requests.get(entry.project_id)
        if candidates and rng.random() < 0.15:
            links.append(LogEntry.requests.through(logentry_id=entry.pk, servicerequest_id=rng.choice(candidates)))
    LogEntry.requests.through.objects.bulk_create(links, batch_size=1000, ignore_conflicts=True)
    LogEvent.objects.bulk_create(events, batch_size=1000)
    return {"logs": len(logs), "entries": len(entries)}
