"""Demo data that looks real: a Ningxia branch (银川), a Shanghai head office, the seed's staff positions
and specialties, three customers with projects and about 500 devices, in and out of warranty."""

import random
from datetime import date, time, timedelta

from django.contrib.auth.models import Group
from django.db import transaction

from aftersales.accounts import roles
from aftersales.accounts.models import Branch, OnCallShift, Position, Specialty, User
from aftersales.assets.models import Device, DeviceCategory, Manufacturer
from aftersales.billing import demo as billing_demo
from aftersales.contracts import demo as contracts_demo
from aftersales.customers.models import Customer, Milestone, MilestoneKind, Project
from aftersales.parts import demo as parts_demo
from aftersales.repairs import demo as repairs_demo
from aftersales.inspections import demo as inspections_demo
from aftersales.visits import demo as visits_demo
from aftersales.training import demo as training_demo
from aftersales.proof import demo as proof_demo
from aftersales.knowledge import demo as knowledge_demo
from aftersales.journal import demo as journal_demo
from aftersales.replies import demo as replies_demo
from aftersales.documents import demo as documents_demo
from aftersales.changes import demo as changes_demo
from aftersales.proposals import demo as proposals_demo

DEMO_PASSWORD = "demo-pass-2026"

# username, full name, role, position, specialty, branch code, phone
STAFF = [
    ("admin", "系统管理员", roles.ADMINISTRATOR, "", "", None, "0951-6000000"),
    ("gm", "陈建国", roles.GENERAL_MANAGER, Position.GENERAL_MANAGER, "", "sh", "13801680001"),
    ("manager", "王志强", roles.DEPARTMENT_MANAGER, Position.DEPARTMENT_MANAGER, Specialty.SYSTEM_INTEGRATION, "nx", "13909510002"),
    ("dispatcher", "李晓燕", roles.DISPATCHER, Position.DISPATCHER, "", "nx", "13909510003"),
    ("engineer", "张伟", roles.ENGINEER, Position.ENGINEER, Specialty.COMPUTING, "nx", "13909510004"),
    ("engineer2", "马军", roles.ENGINEER, Position.ENGINEER, Specialty.ELECTROMECHANICAL, "nx", "13909510005"),
    ("engineer3", "杨帆", roles.ENGINEER, Position.ENGINEER, Specialty.SYSTEM_INTEGRATION, "nx", "13909510006"),
    ("engineer4", "刘洋", roles.ENGINEER, Position.ENGINEER, Specialty.ELECTRICAL_AUTOMATION, "nx", "13909510007"),
    ("logistics", "赵丽", roles.LOGISTICS, Position.LOGISTICS, "", "nx", "13909510008"),
    ("advisor", "周教授", roles.TECHNICAL_ADVISOR, Position.TECHNICAL_ADVISOR, Specialty.SYSTEM_INTEGRATION, "sh", "13801680009"),
    ("sh_engineer", "吴磊", roles.ENGINEER, Position.ENGINEER, Specialty.COMPUTING, "sh", "13801680010"),
]

CUSTOMERS = [
    # name, short, branch, address, contact username, contact name, projects
    ("银川市公安局", "银川公安", "nx", "宁夏银川市兴庆区解放西街", "customer", "马红梅", [
        ("银川市社会治安视频监控(天网)三期", "NXZD-2021-031", "银川市兴庆区", 38.4872, 106.2309, date(2022, 5, 20)),
        ("银川市交通卡口系统", "NXZD-2023-007", "银川市金凤区", 38.4730, 106.2420, date(2024, 3, 15)),
    ]),
    ("宁夏医科大学总医院", "宁医总院", "nx", "宁夏银川市兴庆区胜利街804号", "hospital", "丁医生", [
        ("总医院安防及楼宇智能化系统", "NXZD-2022-018", "银川市兴庆区胜利街804号", 38.4681, 106.2811, date(2023, 11, 30)),
    ]),
    ("上海轨道交通运营有限公司", "上海地铁", "sh", "上海市黄浦区衡山路12号", "metro", "沈工", [
        ("地铁站视频监控改造", "SHZD-2024-102", "上海市徐汇区", 31.1880, 121.4370, None),
    ]),
]

CATEGORIES = [
    ("camera", "摄像机"), ("nvr", "硬盘录像机"), ("switch", "交换机"), ("server", "服务器"),
    ("access-control", "门禁控制器"), ("storage", "存储阵列"), ("decoder", "解码器"), ("display", "监视器/大屏"),
    ("ups", "UPS电源"), ("alarm", "报警主机"),
]
MODELS = {
    "camera": [("海康威视", "DS-2CD3T46WDV3-I3"), ("大华", "DH-IPC-HFW4433M"), ("宇视", "IPC2124LB-SF40KM")],
    "nvr": [("海康威视", "DS-9632N-I16"), ("大华", "DHI-NVR5864-4KS2")],
    "switch": [("华为", "S5735-L24P4S-A"), ("H3C", "S5130S-28P-EI")],
    "server": [("华为", "FusionServer 2288H V6"), ("浪潮", "NF5280M6")],
    "access-control": [("海康威视", "DS-K2604T"), ("中控智慧", "inBio460")],
    "storage": [("海康威视", "DS-A81016S"), ("华为", "OceanStor 5310")],
    "decoder": [("海康威视", "DS-6916UD"), ("大华", "DH-NVD1205DH-4I")],
    "display": [("海康威视", "DS-D2055NL-B"), ("京东方", "BOE 55寸拼接屏")],
    "ups": [("山特", "C10KS"), ("华为", "UPS2000-A-6KTTL")],
    "alarm": [("霍尼韦尔", "VISTA-120"), ("海康威视", "DS-19A08-01BN")],
}
SHARE = {"camera": 60, "nvr": 6, "switch": 10, "server": 3, "access-control": 6, "storage": 2, "decoder": 3,
         "display": 5, "ups": 2, "alarm": 3}
PLACES = ["主楼一层大厅", "东门出入口", "地下停车场B1", "三层走廊", "机房A", "监控中心", "西侧围墙", "南广场",
          "电梯厅", "办公区二层", "十字路口北向", "卡口杆件3号"]
SUPPLIERS = ["宁夏信达科技有限公司", "上海致达信息产业股份有限公司", "杭州安防设备供应链有限公司"]


def ensure_categories() -> None:
    for code, name in CATEGORIES:
        DeviceCategory.objects.get_or_create(code=code, defaults={"name": name})


@transaction.atomic
def load(*, devices: int = 500, seed: int = 2026) -> dict:
    """Create the demo world once; a second call changes nothing."""
    if Branch.objects.filter(code="nx").exists():
        return {"created": False}
    rng = random.Random(seed)
    nx = Branch.objects.create(name="宁夏分公司(银川)", code="nx", address="宁夏银川市金凤区北京中路168号",
                               latitude=38.4872, longitude=106.2309, phone="0951-6000000")
    sh = Branch.objects.create(name="上海总部", code="sh", address="上海市徐汇区虹漕路",
                               latitude=31.1690, longitude=121.4020, phone="021-64000000")
    branches = {"nx": nx, "sh": sh}
    groups = {g.name: g for g in Group.objects.all()}
    logins = []
    for username, full_name, role, position, specialty, branch, phone in STAFF:
        user = User.objects.create_user(
            username, f"{username}@aftersales.example", DEMO_PASSWORD, full_name=full_name, position=position,
            specialty=specialty, branch=branches.get(branch), phone=phone,
            is_staff=role == roles.ADMINISTRATOR, is_superuser=role == roles.ADMINISTRATOR,
        )
        user.groups.add(groups[role])
        logins.append((username, roles.ROLE_LABELS[role]))
    _roster(nx, sh)
    ensure_categories()
    from aftersales.intake.alarms.rules import ensure_default_rules

    ensure_default_rules()  # the NVR rule needs the categories
    categories = {c.code: c for c in DeviceCategory.objects.all()}
    makers = {}
    projects = []
    for name, short, branch, address, contact, contact_name, project_rows in CUSTOMERS:
        customer = Customer.objects.create(name=name, short_name=short, branch=branches[branch], address=address,
                                           phone=f"0951-{rng.randint(5000000, 6999999)}")
        user = User.objects.create_user(contact, f"{contact}@customer.example", DEMO_PASSWORD, full_name=contact_name,
                                        customer=customer, title="信息科", phone=f"139{rng.randint(10000000, 99999999)}")
        user.groups.add(groups[roles.CUSTOMER_USER])
        logins.append((contact, f"{roles.ROLE_LABELS[roles.CUSTOMER_USER]} · {short}"))
        for pname, contract, site, lat, lon, accepted in project_rows:
            project = Project.objects.create(
                customer=customer, branch=branches[branch], name=pname, contract_number=contract, site_address=site,
                latitude=lat, longitude=lon, contract_signed_on=(accepted or date(2025, 9, 1)) - timedelta(days=300),
                service_starts_on=accepted, service_ends_on=accepted and accepted + timedelta(days=3 * 365),
                accepted_on=accepted,
            )
            _milestones(project, accepted, rng)
            projects.append(project)
    rows = []
    for i in range(devices):
        project = projects[i % len(projects)]
        code = rng.choices(list(SHARE), weights=list(SHARE.values()))[0]
        maker_name, model = rng.choice(MODELS[code])
        maker = makers.get(maker_name) or makers.setdefault(maker_name, Manufacturer.objects.get_or_create(name=maker_name)[0])
        installed = (project.accepted_on or date(2025, 10, 1)) - timedelta(days=rng.randint(10, 60))
        device = Device(
            project=project, category=categories[code], manufacturer=maker, name=f"{categories[code].name}-{i + 1:03d}",
            model=model, serial_number=f"{maker_name[:1].encode().hex().upper()}{rng.randint(10**9, 10**10 - 1)}{i:03d}",
            location=rng.choice(PLACES), installed_on=installed, supplier=rng.choice(SUPPLIERS),
        )
        if i % 37 == 0 and project.accepted_on:  # a few devices carry an extended warranty bought separately
            device.warranty_end_override = project.accepted_on + timedelta(days=5 * 365)
        device.refresh_warranty(project)
        rows.append(device)
    Device.objects.bulk_create(rows, batch_size=500)
    _service_requests(projects)
    parts_demo.load()  # issue 22 §5: spare parts catalogue, warehouses, vans and their movements
    _work_order_with_parts(projects[0])  # issue 22 §7: catalogue parts on a work order (a Ningxia project)
    contracts = contracts_demo.load()  # issue 22 §1: maintenance contracts, one renewed tacitly, one ending soon
    billing_demo.load(contracts.get("expired_device"))  # issue 22 §6: a charge sheet of a device out of coverage
    repairs_demo.load()  # issue 22 §2-§4: repair cases, RMAs, loans, replacements
    inspections_demo.load()  # issue 23 §1, §3: checklists, plans and a year of inspection rounds
    visits_demo.load()  # issue 23 §7-§8: return visits (done, planned, overdue), follow-ups, surveys
    training_demo.load()  # issue 23 §9: trainings planned, held awaiting feedback, signed; handover checklists
    journal_demo.load()  # issue 25 §2: a year of daily logs of the demo staff (bulk, 2-3 s)
    documents_demo.load()  # issue 25 §3: versioned project documents (procedures, network plans, as-built)
    changes_demo.load()  # issue 25 §4: change notices answered (with tests), under test, overdue, withdrawn
    proposals_demo.load()  # issue 25 §4-§5: hidden-danger reports and proposals in every state
    knowledge_demo.load()  # issue 25 §6: 34 articles (published, customer-visible, in review), one from a request
    replies_demo.load()  # issue 25 §7: the desk's canned replies, per branch and for every branch
    proof_demo.load()  # issue 24 §4: last month's proof-of-service report of each customer (about a second each)
    return {"created": True, "logins": logins, "devices": len(rows), "projects": len(projects)}


def _service_requests(projects) -> None:
    """A desk with work in every state, so the queue, the timelines and the escalations show something."""
    from aftersales.service import verbs
    from aftersales.service.models import ServiceRequest

    def seen(request) -> int:  # the version a desk that just loaded the page would send
        return ServiceRequest.objects.values_list("version", flat=True).get(pk=request.pk)

    people = {u.username: u for u in User.objects.all()}
    desk, engineer = people["dispatcher"], people["engineer"]
    ningxia = [p for p in projects if p.branch.code == "nx"]
    first, second = ningxia[0], ningxia[-1]
    devices = list(Device.objects.filter(project=first)[:3])

    def open_(project, priority, title, description, by=desk, **extra):
        return verbs.open_request(by=by, project=project, priority=priority, channel=extra.pop("channel", "phone"),
                                  title=title, description=description, **extra)

    closed = open_(first, "general", "客户端回放卡顿", "二楼监控室客户端回放 1080P 录像卡顿", devices=devices[:1])
    verbs.reply(request=closed, version=seen(closed), by=desk, mode="remote", plan="远程检查客户端解码设置")
    work_order = verbs.submit_work_order(request=closed, version=seen(closed), by=engineer,
                                         actions="开启硬件解码,升级客户端", minutes_spent=40, result="solved")
    verbs.confirm_work_order(work_order=work_order, version=work_order.version, by=people["customer"], via="portal",
                             satisfaction=5, comment="处理及时")
    # SRQ-8 (issue 24 §3): its incident report, confirmed by the customer in the portal (the printable 事故报告)
    report = verbs.save_incident_report(
        request=closed, by=engineer, version=None, cause="客户端未开启硬件解码,1080P 多路回放占满 CPU",
        impact="二楼监控室回放卡顿约 3 小时,实时预览不受影响", fix="开启硬件解码,升级客户端至 V3.2",
        timeline="09:10 客户来电报修\n09:25 远程登录检查\n10:05 开启硬件解码并升级客户端\n10:20 客户确认恢复",
        prevention="新装客户端统一开启硬件解码;巡检时检查客户端版本")
    report = verbs.submit_incident_report(report=report, by=engineer, version=report.version)
    verbs.answer_incident_report(report=report, by=people["customer"], version=report.version, accept=True, via="portal")
    awaiting = open_(first, "general", "门禁读卡器不识别", "东门门禁读卡器刷卡无反应")
    verbs.reply(request=awaiting, version=seen(awaiting), by=desk, mode="onsite", plan="工程师上门更换读卡器")
    verbs.dispatch(request=awaiting, version=seen(awaiting), by=desk, engineer=people["engineer2"])
    verbs.depart(request=awaiting, by=people["engineer2"])
    verbs.arrive(request=awaiting, by=people["engineer2"], confirmed_by_customer=True)
    # the reader itself becomes a part line of this work order in parts/demo.py; the note holds the rest
    verbs.submit_work_order(request=awaiting, version=seen(awaiting), by=people["engineer2"], actions="更换读卡器一台",
                            parts_used="读卡器固定螺丝 ×2", minutes_spent=50, result="solved")
    emergency = open_(second, "emergency", "监控中心大屏全部黑屏", "解码器无输出,业务中断", business_impact="无法实时监看", channel="phone")
    verbs.dispatch(request=emergency, version=seen(emergency), by=desk, engineer=engineer)
    verbs.depart(request=emergency, by=engineer)
    open_(first, "serious", "十字路口北向卡口摄像机离线", "卡口杆件3号两台摄像机离线", devices=devices[1:3])
    open_(second, "serious", "NVR 硬盘告警", "机房A NVR 报硬盘错误", by=people["hospital"], channel="portal")
    replied = open_(first, "general", "新增两路摄像机接入", "南广场计划新增两路摄像机接入平台")
    verbs.reply(request=replied, version=seen(replied), by=desk, mode="onsite", plan="下周二上门勘察", scheduled_for=None)
    open_(second, "general", "客户端账号权限调整", "新增值班员账号,仅预览权限", channel="email")


def _work_order_with_parts(project) -> None:
    """Issue 22 §7: an engineer on site uses a lens and a junction box from the van, recorded through the work-order
    verb as part lines (ledger movements), with a parts note for what is not in the catalogue; the customer has it
    to confirm."""
    from aftersales.parts.models import Part
    from aftersales.service import verbs
    from aftersales.service.models import ServiceRequest
    from aftersales.service.part_lines import PartLine

    def seen(request) -> int:
        return ServiceRequest.objects.values_list("version", flat=True).get(pk=request.pk)

    desk, field = User.objects.get(username="dispatcher"), User.objects.get(username="engineer3")
    parts = {part.part_number: part for part in Part.objects.filter(part_number__in=["TL-0412", "PFA134"])}
    job = verbs.open_request(by=desk, project=project, priority="serious", channel="phone",
                             title="南广场枪机夜间无图像", description="南广场 2 号枪机夜间画面全黑,白天正常")
    verbs.reply(request=job, version=seen(job), by=desk, mode="onsite", plan="工程师上门检查镜头及接线盒")
    verbs.dispatch(request=job, version=seen(job), by=desk, engineer=field)
    verbs.depart(request=job, by=field)
    verbs.arrive(request=job, by=field, confirmed_by_customer=True)
    verbs.submit_work_order(request=job, version=seen(job), by=field, actions="更换定焦镜头及进水的防水接线盒,夜视恢复",
                            parts=[PartLine(parts["TL-0412"], 1), PartLine(parts["PFA134"], 1)],
                            parts_used="防水胶带 1 卷", minutes_spent=70, result="solved")


def _milestones(project, accepted, rng) -> None:
    base = accepted or date(2026, 1, 15)
    plan = [(MilestoneKind.ARRIVAL, -90), (MilestoneKind.INSTALLATION, -60), (MilestoneKind.COMMISSIONING, -30),
            (MilestoneKind.ACCEPTANCE, 0)]
    for kind, offset in plan:
        deadline = base + timedelta(days=offset + (-10 if kind == MilestoneKind.INSTALLATION else 5))
        done = accepted and base + timedelta(days=offset)
        Milestone.objects.create(project=project, kind=kind, contract_deadline=deadline, actual_date=done or None,
                                 place=project.site_address if kind == MilestoneKind.ARRIVAL else "",
                                 extension_days=0)
    if accepted:
        milestone = project.milestones.get(kind=MilestoneKind.ACCEPTANCE)
        recorder = User.objects.filter(username="dispatcher").first()
        milestone.extensions.create(days=15, reason="业主机房装修未完成,设备无法进场(业主原因)", recorded_by=recorder)
        milestone.extension_days = 15
        milestone.save(update_fields=["extension_days"])


def _roster(nx, sh) -> None:
    start = date(2026, 1, 1)
    people = {u.username: u for u in User.objects.filter(branch__isnull=False)}
    # Day shifts on weekdays by specialty, one overnight duty rotating through the week, weekends 24 h.
    for username in ("engineer", "engineer2", "engineer3", "engineer4"):
        user = people[username]
        for weekday in range(5):
            OnCallShift.objects.create(branch=nx, user=user, specialty=user.specialty, weekday=weekday,
                                       start_time=time(8, 30), end_time=time(17, 30), valid_from=start)
    night = ["engineer", "engineer2", "engineer3", "engineer4", "engineer", "engineer2", "engineer3"]
    for weekday, username in enumerate(night):
        user = people[username]
        OnCallShift.objects.create(branch=nx, user=user, specialty=user.specialty, weekday=weekday,
                                   start_time=time(17, 30), end_time=time(8, 30), valid_from=start)
    for weekday in (5, 6):
        OnCallShift.objects.create(branch=nx, user=people["engineer3"], specialty=Specialty.SYSTEM_INTEGRATION,
                                   weekday=weekday, start_time=time(8, 30), end_time=time(17, 30), valid_from=start)
    OnCallShift.objects.create(branch=sh, user=people["sh_engineer"], specialty=Specialty.COMPUTING, weekday=None,
                               start_time=time(0), end_time=time(0), valid_from=start)
