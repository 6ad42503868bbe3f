"""Demo repairs (issue 22 §2-§4), loaded through the verbs: a case in every state, vendor RMAs in flight (one overdue),
spare units out on loan (one overdue), and replacements done (old and new devices linked, the label moved)."""

from datetime import timedelta

from django.db.models import Q

from aftersales.accounts.models import User
from aftersales.assets.models import Device
from aftersales.core import clock
from aftersales.parts.models import Part
from aftersales.parts.selectors import van_of

from . import services
from .models import Loan, ReplacementSource, Verdict

STOCK_UNIT = "DS-2CD3T46WDV3-MOD"  # parts/demo.py puts one in the engineer's van


def load() -> dict:
    people = {u.username: u for u in User.objects.filter(username__in=["dispatcher", "engineer", "engineer2",
                                                                       "logistics", "manager"])}
    desk, engineer, field, logistics = people["dispatcher"], people["engineer"], people["engineer2"], people["logistics"]
    devices = list(Device.objects.filter(project__branch__code="nx").select_related("project__customer", "manufacturer", "category")
                   .order_by("project_id", "pk"))
    if len(devices) < 12:
        return {"cases": 0}
    from aftersales.service.models import ServiceRequest

    today = clock.today()
    with_devices = (ServiceRequest.objects.filter(devices__isnull=False, project__branch__code="nx", state="new")
                    .order_by("pk").first())
    used = set()

    def device(kind: str, customer: str = "银川市公安局"):
        """The next unused Ningxia device of a category (and customer), any other when there is none."""
        candidates = [d for d in devices if d.pk not in used]
        candidate = next((d for d in candidates if d.category.code == kind and d.project.customer.name == customer),
                         next((d for d in candidates if d.category.code == kind), candidates[0]))
        used.add(candidate.pk)
        return candidate

    def opened(unit, fault, **extra):
        return services.open_case(by=desk, device=unit, fault=fault, **extra)

    cases = []
    # diagnosing, opened from the service request whose cameras are offline
    if with_devices is not None:
        unit = with_devices.devices.order_by("pk").first()
        used.add(unit.pk)
        cases.append(opened(unit, "卡口摄像机离线,现场检查供电正常,疑似主板故障", service_request=with_devices))
    # diagnosing, opened from an inspection finding
    cases.append(opened(device("nvr", "宁夏医科大学总医院"), "巡检发现:硬盘录像机风扇异响,温度偏高", finding_ref="XJ-2026-11-031 第 7 项"))
    # repairing on site
    case = opened(device("access-control", "宁夏医科大学总医院"), "门禁控制器间歇性掉线")
    cases.append(services.repair_on_site(case=case, by=engineer, version=case.version, note="现场检查网线及电源模块"))
    # fixed (repaired on site, to be closed)
    case = opened(device("switch"), "交换机端口指示灯不亮")
    case = services.repair_on_site(case=case, by=engineer, version=case.version)
    cases.append(services.finish_repair(case=case, by=engineer, version=case.version, note="更换光模块,端口恢复"))
    # waiting for a replacement unit, a spare unit lent to the customer and overdue
    case = opened(device("display"), "监视器黑屏无显示,背光损坏")
    case = services.plan_replacement(case=case, by=desk, version=case.version, source=ReplacementSource.STOCK,
                                     note="原厂停产,待库存调拨")
    loan = services.lend_unit(case=case, by=field, version=case.version, unit_serial="BY-DSP-0007",
                              unit_model="海康威视 DS-D2055NL-B(备用机)", due_back_on=today, lent_to="监控中心 马红梅")
    # The demo's history: lent three weeks ago, due back a week ago (a loan cannot be entered in the past).
    Loan.objects.filter(pk=loan.pk).update(lent_at=clock.now() - timedelta(days=21), due_back_on=today - timedelta(days=7))
    cases.append(case)
    # at the manufacturer: one in flight with a spare unit lent, one overdue from the manufacturer
    for sent_days_ago, tracking, loaned in ((5, "SF1402938475612", True), (45, "JD0098123344556", False)):
        if loaned:
            case = opened(device("camera"), "摄像机图像偏色,夜间红外失效")
        else:
            case = opened(device("storage", "宁夏医科大学总医院"), "存储阵列控制器报错")
        case = services.send_to_vendor(case=case, by=logistics, version=case.version,
                                       rma_number=f"RMA-{today:%Y%m}-{sent_days_ago:03d}",
                                       manufacturer=case.device.manufacturer, carrier="顺丰速运" if loaned else "京东物流",
                                       tracking_number=tracking, sent_on=today - timedelta(days=sent_days_ago))
        if loaned:
            services.lend_unit(case=case, by=field, version=case.version, unit_serial="BY-CAM-0012",
                               unit_model="海康威视 DS-2CD3T46WDV3-I3(备用机)", due_back_on=today + timedelta(days=25),
                               lent_to="天网三期 值班室")
        cases.append(case)
    # back from the manufacturer, repaired, to be reinstalled
    case = opened(device("decoder"), "解码器无输出")
    case = services.send_to_vendor(case=case, by=logistics, version=case.version, rma_number=f"RMA-{today:%Y%m}-101",
                                   manufacturer=case.device.manufacturer, carrier="顺丰速运",
                                   tracking_number="SF1400000000101", sent_on=today - timedelta(days=20))
    cases.append(services.return_from_vendor(case=case, by=logistics, version=case.version, verdict=Verdict.REPAIRED,
                                             returned_on=today - timedelta(days=1), vendor_report="更换电源板"))
    # closed: replaced from stock, the unit taken out of the engineer's van through the parts ledger (the old and
    # new devices linked, the label moved to the new one)
    case = opened(device("camera"), "摄像机进水,主板烧毁")
    case = services.replace(case=case, by=engineer, version=case.version, serial=f"RPL{case.device.serial_number[-9:]}",
                            source=ReplacementSource.STOCK, part=Part.objects.get(part_number=STOCK_UNIT),
                            location=van_of(engineer))
    cases.append(services.close(case=case, by=desk, version=case.version, note="新设备运行正常,客户确认"))
    # closed: the manufacturer replaced the unit under RMA; reinstalling records the unit that came back
    case = opened(device("ups", "宁夏医科大学总医院"), "UPS 电池无法充电")
    case = services.send_to_vendor(case=case, by=logistics, version=case.version, rma_number=f"RMA-{today:%Y%m}-102",
                                   manufacturer=case.device.manufacturer, carrier="德邦快递",
                                   tracking_number="DB7788001122", sent_on=today - timedelta(days=30))
    case = services.return_from_vendor(case=case, by=logistics, version=case.version, verdict=Verdict.REPLACED,
                                       returned_on=today - timedelta(days=3),
                                       returned_serial=f"VND{case.device.serial_number[-9:]}")
    case = services.reinstall(case=case, by=field, version=case.version)
    cases.append(services.close(case=case, by=desk, version=case.version))
    # cancelled
    case = opened(device("alarm"), "报警主机误报")
    cases.append(services.cancel(case=case, by=desk, version=case.version, reason="客户现场调整防区参数后恢复,无需维修"))
    # The replaced units are retired (issue 22 §3): out of the device lists, their pages kept with their history.
    return {"cases": len(cases), "loans": Loan.objects.filter(Q(returned_at__isnull=True)).count(),
            "retired": Device.objects.filter(retired_at__isnull=False).count()}
