"""Demo trainings and handover checklists (issue 23 §9), loaded through the verbs and dated from today, so the demo
shows the same whenever it is loaded:

- 银川天网三期: the installation handover held a month ago, its feedback signed on the engineer's screen; the handover
  checklist complete (独立运行);
- 银川交通卡口: a session held with the vendor two days ago, awaiting the customer's signed feedback (the link is in the
  outbox); the checklist partly done;
- 总医院: a product-update session planned next week, and one cancelled.
"""

import math
import struct
import zlib
from datetime import datetime, time, timedelta

from django.core.files.base import ContentFile

from aftersales.accounts.models import User
from aftersales.core import clock
from aftersales.customers.models import Project

from . import services
from .models import HandoverItem, SessionKind, SignedVia, TrainingSession, Venue


def at(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=clock.SHANGHAI)


def signature_png(width: int = 360, height: int = 120) -> bytes:
    """A hand-drawn-looking stroke as a small greyscale PNG (what the signature pad would send)."""
    rows = [bytearray([255] * width) for _ in range(height)]
    for x in range(20, width - 20):
        y = int(height / 2 + 28 * math.sin(x / 17.0) * math.cos(x / 53.0))
        for dy in (-1, 0, 1):
            rows[max(0, min(height - 1, y + dy))][x] = 20
    raw = b"".join(b"\x00" + bytes(row) for row in rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def load() -> dict:
    """Create the demo trainings once (inside demo.data.load's transaction); a second call changes nothing."""
    if TrainingSession.objects.exists():
        return {"sessions": 0}
    people = {u.username: u for u in User.objects.filter(username__in=["engineer", "engineer3", "manager"])}
    projects = {p.contract_number: p for p in Project.objects.filter(
        contract_number__in=["NXZD-2021-031", "NXZD-2023-007", "NXZD-2022-018"])}
    if len(people) < 3 or len(projects) < 3:
        return {"sessions": 0}
    engineer, engineer3, manager = people["engineer"], people["engineer3"], people["manager"]
    skynet, traffic, hospital = projects["NXZD-2021-031"], projects["NXZD-2023-007"], projects["NXZD-2022-018"]
    today = clock.today()
    staff = [services.AttendeeIn("马红梅", "信息科科长", "13909511201"), services.AttendeeIn("李强", "监控中心值班长", "13909511202"),
             services.AttendeeIn("王芳", "值班员", "13909511203")]

    # 天网三期: installation handover a month ago, held, signed on the engineer's screen
    handover = services.plan_session(
        by=manager, project=skynet, title="天网三期安装交接培训", kind=SessionKind.HANDOVER, venue=Venue.ON_SITE,
        place="银川市公安局监控指挥中心", starts_at=at(today - timedelta(days=30), 9, 30),
        ends_at=at(today - timedelta(days=30), 16, 30), trainers=[engineer, manager],
        content="视频平台日常操作\n录像回放与导出\n用户与权限管理\n摄像机离线、硬盘告警的处理\n设备安全重启\n报修流程与联系人",
        attendees=staff)
    attendees = list(handover.attendees.order_by("pk"))
    handover = services.record_held(session=handover, by=engineer, version=handover.version, present=attendees,
                                    walk_ins=[services.AttendeeIn("赵磊", "网络管理员")],
                                    summary="六个专题全部讲授并上机实操,学员逐项独立操作。")
    services.sign_feedback(session=handover, version=handover.version, via=SignedVia.SCREEN, on_screen_of=engineer,
                           evaluation="培训内容全面,讲解清楚,实操充分,值班人员已能独立操作平台。",
                           opinions="建议三个月后针对新入职值班员再做一次复训。", rating=5, signer_name="马红梅",
                           signature=ContentFile(signature_png(), name="signature.png"))
    handover.refresh_from_db()
    services.add_material(session=handover, by=engineer, upload=ContentFile(
        "天网三期视频平台操作手册(培训讲义)\n1. 登录与实时预览\n2. 录像回放与导出\n3. 用户与权限\n4. 常见告警处理\n"
        "5. 设备安全重启\n6. 报修:400-000-0000(7×24)\n".encode(), name="天网三期操作讲义.txt"))
    services.start_checklist(project=skynet, by=engineer)
    who = ["李强", "王芳", "王芳", "李强", "赵磊", "赵磊", "马红梅"]
    for item, name in zip(HandoverItem.objects.filter(project=skynet).order_by("position", "pk"), who):
        services.mark_demonstrated(item=item, by=engineer, version=item.version, demonstrated_by=name,
                                   demonstrated_on=today - timedelta(days=30), session=handover)

    # 交通卡口: joint session with the vendor two days ago, awaiting the customer's signed feedback
    joint = services.plan_session(
        by=manager, project=traffic, title="卡口系统升级联合培训(厂商)", kind=SessionKind.JOINT_WITH_VENDOR,
        venue=Venue.COMPANY, place="宁夏分公司三楼培训室", starts_at=at(today - timedelta(days=2), 14),
        ends_at=at(today - timedelta(days=2), 17), trainers=[engineer3], vendor_trainers="海康威视 孙工, 海康威视 周工",
        content="卡口平台 V4.2 新功能\n过车记录检索与导出\n抓拍机离线排查", attendees=staff[1:])
    joint = services.record_held(session=joint, by=engineer3, version=joint.version,
                                 present=list(joint.attendees.all()), summary="厂商讲解新版本功能,我方讲解日常维护。")
    services.start_checklist(project=traffic, by=engineer3)
    for item in list(HandoverItem.objects.filter(project=traffic).order_by("position", "pk"))[:3]:
        services.mark_demonstrated(item=item, by=engineer3, version=item.version, demonstrated_by="李强",
                                   demonstrated_on=today - timedelta(days=2), session=joint)

    # 总医院: a product update planned next week, and one that was cancelled
    planned = services.plan_session(
        by=manager, project=hospital, title="楼宇智能化平台产品更新培训", kind=SessionKind.PRODUCT_UPDATE,
        venue=Venue.ON_SITE, place="总医院行政楼 5 楼会议室", starts_at=at(today + timedelta(days=6), 9),
        ends_at=at(today + timedelta(days=6), 11, 30), trainers=[engineer],
        content="门禁平台升级后的新界面\n访客权限批量下发", attendees=[services.AttendeeIn("丁医生", "保卫科", "13909512001"),
                                                       services.AttendeeIn("何师傅", "弱电班组长")])
    cancelled = services.plan_session(
        by=manager, project=hospital, title="报警主机操作培训", kind=SessionKind.HANDOVER, venue=Venue.ON_SITE,
        starts_at=at(today + timedelta(days=3), 15), ends_at=at(today + timedelta(days=3), 16), trainers=[engineer],
        content="报警主机布防撤防\n防区旁路")
    services.cancel_session(session=cancelled, by=manager, version=cancelled.version,
                            reason="业主改期,与下周产品更新培训合并进行。")
    return {"sessions": 4, "signed": handover.pk, "awaiting": joint.pk, "planned": planned.pk}
