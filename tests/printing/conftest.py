"""Records of every printable form, built through the verbs (the way the product writes them)."""

import io
import uuid
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from aftersales.accounts.models import Position, Specialty
from aftersales.inspections import reports as inspection_reports
from aftersales.inspections import services as inspections
from aftersales.parts import services as parts
from aftersales.parts.models import Location, Part
from aftersales.service import verbs
from aftersales.service.part_lines import PartLine
from aftersales.training import services as training
from aftersales.visits import services as visits

from ..factories import DeviceFactory, StaffFactory, current_version


def signature_png() -> bytes:
    """A signature as the pad draws it: a stroke on a transparent PNG."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (360, 120), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(12, 90), (60, 25), (110, 85), (170, 20), (240, 80), (330, 35)],
                               fill=(10, 20, 90, 255), width=5)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def signature():
    return signature_png()


@pytest.fixture
def our_engineer(admin_user):
    """Who writes the work orders in these tests (the administrator may do every step), named as on paper."""
    admin_user.full_name, admin_user.phone = "王建国", "13800000001"
    admin_user.save(update_fields=["full_name", "phone"])
    return admin_user


def open_and_work(project, reporter, engineer, *, actions="更换电源适配器，图像恢复。", part_lines=(), title="3号摄像机无图像"):
    request = verbs.open_request(by=reporter, project=project, priority="serious", channel="portal", title=title,
                                 description="监控中心 3 号摄像机无图像，录像中断。")
    request.devices.add(DeviceFactory(project=project, name="3号摄像机", location="监控中心"))
    verbs.reply(request=request, by=engineer, version=current_version(request), mode="remote", plan="远程处理")
    return verbs.submit_work_order(request=request, by=engineer, version=current_version(request), actions=actions,
                                   minutes_spent=45, result="solved", parts_used="扎带若干", parts=part_lines)


@pytest.fixture
def stock(project_a, our_engineer):
    """Twenty catalogue parts in branch A's warehouse, ten of each."""
    warehouse = Location.objects.create(kind="warehouse", name="银川仓库", branch=project_a.branch, is_main=True)
    device = DeviceFactory(project=project_a)
    items = []
    for n in range(20):
        part = Part.objects.create(manufacturer=device.manufacturer, part_number=f"PA-{n:03d}",
                                   name=f"电源适配器 12V 型号{n}", purchase_cost=45)
        parts.receive(part=part, location=warehouse, quantity=10, by=our_engineer)
        items.append(part)
    return warehouse, items


def lines(stock, count: int) -> list[PartLine]:
    warehouse, items = stock
    return [PartLine(part=part, quantity=1, location=warehouse) for part in items[:count]]


@pytest.fixture
def work_order(project_a, customer_user_a, our_engineer):
    return open_and_work(project_a, customer_user_a, our_engineer)


@pytest.fixture
def signed_work_order(work_order, customer_user_a, signature):
    return verbs.confirm_work_order(work_order=work_order, by=customer_user_a, version=current_version(work_order),
                                    via="signature", signer_name="张三", signature=ContentFile(signature, name="s.png"),
                                    satisfaction=5, comment="处理及时，满意。")


@pytest.fixture
def work_order_b(project_b, customer_user_b, our_engineer):
    return open_and_work(project_b, customer_user_b, our_engineer, title="站台摄像机无图像")


@pytest.fixture
def incident_report(work_order, our_engineer):
    report = verbs.save_incident_report(request=work_order.request, by=our_engineer, version=None,
                                        cause="电源适配器老化损坏", impact="监控中心 3 号摄像机中断 2 小时",
                                        timeline="09:00 报修；09:40 到场；10:30 恢复", fix="更换电源适配器",
                                        prevention="巡检时检查电源温度")
    return verbs.submit_incident_report(report=report, by=our_engineer, version=report.version)


@pytest.fixture
def inspection_round(project_a, engineer, admin_user, device_a, signature, customer_user_a):
    checklist = inspections.create_checklist(by=admin_user, category=device_a.category, name="摄像机巡检",
                                             items=[{"kind": "pass_fail", "label": "图像清晰"},
                                                    {"kind": "pass_fail", "label": "镜头清洁"}])
    plan = inspections.create_plan(by=admin_user, project=project_a, name="月度巡检", cadence="monthly",
                                   starts_on=timezone.localdate(), checklists=[checklist], engineers=[engineer])
    round_ = plan.rounds.order_by("due_on").first()
    round_ = inspections.start_round(round=round_, by=engineer, version=round_.version)
    for check in round_.checks.all():
        for n, item in enumerate(check.checklist.items.all()):
            inspections.record_answer(round=round_, by=engineer, device=check.device, item=item,
                                      client_id=uuid.uuid4(), passed=n == 0, note="" if n == 0 else "镜头有污渍",
                                      photo=None if n == 0 else ContentFile(signature_png(), name="photo.png"))
    round_ = inspections.complete_round(round=round_, by=engineer, version=round_.version, summary="基本正常")
    report = inspection_reports.issue_report(round=round_, by=engineer, evaluation="系统运行良好",
                                             suggestions="建议每季度清洁镜头")
    inspection_reports.confirm_report(report=report, version=report.version, via="portal", signer_name="李四",
                                      signature=ContentFile(signature, name="s.png"), by=customer_user_a)
    return round_


@pytest.fixture
def survey(project_a, admin_user):
    row = visits.create_survey(by=admin_user, project=project_a, send=False)
    return visits.answer_survey(survey=row, by=admin_user, version=row.version, via="staff",
                                surveyed_at=timezone.now() - timedelta(hours=1), equipment_usage="设备使用正常",
                                system_operation="系统运行平稳", system_stability="稳定", abnormal=True,
                                abnormal_description="2 号杆摄像机夜间偶有花屏", satisfaction=4, remarks="无")


@pytest.fixture
def training_session(project_a, admin_user, customer_user_a, signature):
    start = timezone.now() - timedelta(hours=3)
    session = training.plan_session(by=admin_user, project=project_a, title="视频监控平台使用培训", kind="handover",
                                    venue="on_site", starts_at=start, ends_at=start + timedelta(hours=2),
                                    content="录像回放\n设备巡检", vendor_trainers="海康 王工",
                                    attendees=[training.AttendeeIn("李强"), training.AttendeeIn("赵敏")])
    session = training.record_held(session=session, by=admin_user, version=session.version,
                                   present=list(session.attendees.all()))
    training.sign_feedback(session=session, version=current_version(session), via="portal", evaluation="讲解清楚",
                           rating=5, signer_name="李强", signature=ContentFile(signature, name="s.png"),
                           opinions="希望增加实操时间", by=customer_user_a)
    return session


@pytest.fixture
def roster_staff(branch_a):
    """The branch's staff as the seed's table lists them."""
    return [StaffFactory(username=f"staff{n}", branch=branch_a, full_name=name, position=position, specialty=specialty,
                         phone=f"1390000000{n}")
            for n, (name, position, specialty) in enumerate([
                ("刘德明", Position.ENGINEER, Specialty.SYSTEM_INTEGRATION),
                ("陈晓", Position.LOGISTICS, Specialty.ELECTROMECHANICAL),
                ("周强", Position.ENGINEER, Specialty.COMPUTING)])]
