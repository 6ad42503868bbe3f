"""Demo spare parts (issue 22 §5): a catalogue of typical video-surveillance parts with their costs, a main warehouse
per branch, a van for every demo engineer with some stock, movements written through the verbs, and one part below
its minimum with the alert that went to logistics."""

from decimal import Decimal

from aftersales.accounts.models import Branch, Position, User
from aftersales.assets.models import Manufacturer

from . import services
from .models import Location, LocationKind, Part, Unit

# manufacturer, part number, name, unit, purchase cost (CNY), serial-tracked
CATALOGUE = [
    ("海康威视", "DS-2CD3T46WDV3-MOD", "摄像机机芯模组 400万", Unit.UNIT, "860.00", True),
    ("宇视", "TL-0412", "定焦镜头 4mm", Unit.PIECE, "120.00", False),
    ("海康威视", "DS-2FA1202-C", "电源适配器 12V 2A", Unit.PIECE, "45.00", False),
    ("华为", "S5735-L8P4S-A", "PoE 交换机 8 口千兆", Unit.UNIT, "1350.00", True),
    ("希捷", "ST4000VX015", "监控硬盘 4TB", Unit.PIECE, "520.00", True),
    ("希捷", "ST8000VE001", "监控硬盘 8TB", Unit.PIECE, "1180.00", True),
    ("海康威视", "DS-K1101M", "IC 读卡器", Unit.PIECE, "180.00", False),
    ("中控智慧", "AL-280", "磁力门锁 280kg", Unit.SET, "260.00", False),
    ("H3C", "FC-1100A", "光纤收发器 单模单纤", Unit.PIECE, "95.00", False),
    ("华为", "eSFP-GE-SX-MM850", "SFP 光模块 多模", Unit.PIECE, "150.00", False),
    ("大华", "PFA134", "摄像机防水接线盒", Unit.PIECE, "35.00", False),
]


def load() -> dict:
    """Once, after the staff and the requests exist (demo.data.load)."""
    if Location.objects.exists():
        return {"created": False}
    people = {user.username: user for user in User.objects.filter(customer__isnull=True)}
    clerk, admin = people["logistics"], people["admin"]
    parts = {}
    for maker, number, name, unit, cost, tracked in CATALOGUE:
        manufacturer, _created = Manufacturer.objects.get_or_create(name=maker)
        parts[number] = Part.objects.create(manufacturer=manufacturer, part_number=number, name=name, unit=unit,
                                            purchase_cost=Decimal(cost), serial_tracked=tracked)
    branches = {branch.code: branch for branch in Branch.objects.all()}
    warehouses = {
        "nx": Location.objects.create(kind=LocationKind.WAREHOUSE, name="银川备件仓库", branch=branches["nx"], is_main=True),
        "sh": Location.objects.create(kind=LocationKind.WAREHOUSE, name="上海备件仓库", branch=branches["sh"], is_main=True),
    }
    vans = {}
    for user in User.objects.filter(position=Position.ENGINEER, branch__isnull=False).order_by("username"):
        vans[user.username] = Location.objects.create(kind=LocationKind.VAN, name=f"{user.full_name}随车",
                                                      branch=user.branch, engineer=user)

    def serials(number, start, n):
        return [f"{number[:6]}-{start + i:05d}" for i in range(n)] if parts[number].serial_tracked else []

    nx = warehouses["nx"]
    receipts = [("DS-2CD3T46WDV3-MOD", 6), ("TL-0412", 20), ("DS-2FA1202-C", 40), ("S5735-L8P4S-A", 3),
                ("ST4000VX015", 10), ("ST8000VE001", 4), ("DS-K1101M", 8), ("AL-280", 5), ("FC-1100A", 12),
                ("eSFP-GE-SX-MM850", 10), ("PFA134", 30)]
    for number, quantity in receipts:
        services.receive(part=parts[number], location=nx, quantity=quantity, by=clerk, supplier="宁夏信达科技有限公司",
                         reference="入库单 RK-2026-11-01", serials=serials(number, 1, quantity))
    for number, quantity in (("ST4000VX015", 6), ("DS-2FA1202-C", 20), ("S5735-L8P4S-A", 2)):
        services.receive(part=parts[number], location=warehouses["sh"], quantity=quantity, by=admin,
                         supplier="上海致达信息产业股份有限公司", serials=serials(number, 101, quantity))
    # every Ningxia van gets its everyday parts; the first engineer also carries a camera module and a hard disk
    for username, van in vans.items():
        if van.branch_id != nx.branch_id:
            continue
        for number, quantity in (("DS-2FA1202-C", 4), ("TL-0412", 2), ("PFA134", 3), ("DS-K1101M", 1)):
            services.transfer(part=parts[number], source=nx, destination=van, quantity=quantity, by=clerk)
    zhang = vans.get("engineer")
    if zhang is not None:
        services.transfer(part=parts["DS-2CD3T46WDV3-MOD"], source=nx, destination=zhang, quantity=1, by=clerk,
                          serials=serials("DS-2CD3T46WDV3-MOD", 1, 1))
        services.transfer(part=parts["ST4000VX015"], source=nx, destination=zhang, quantity=2, by=clerk,
                          serials=serials("ST4000VX015", 1, 2))
        services.set_level(part=parts["DS-2FA1202-C"], location=zhang, minimum=2, target=4, by=clerk)
    for number, minimum, target in (("ST4000VX015", 3, 10), ("DS-2FA1202-C", 10, 40), ("DS-K1101M", 3, 8),
                                    ("ST8000VE001", 3, 6)):
        services.set_level(part=parts[number], location=nx, minimum=minimum, target=target, by=clerk)
    _jobs(parts, vans, nx, clerk)
    # a stock take found one lens fewer; a mistyped receipt corrected by its reversal
    services.adjust(part=parts["TL-0412"], location=nx, change=-1, reason="月度盘点:少一支,疑安装时未登记", by=clerk)
    wrong = services.receive(part=parts["PFA134"], location=nx, quantity=50, by=clerk, supplier="宁夏信达科技有限公司")
    services.reverse(movement=wrong, by=clerk, reason="重复录入入库单 RK-2026-11-01")
    return {"created": True, "parts": len(parts), "vans": len(vans)}


def _jobs(parts, vans, warehouse, clerk) -> None:
    """Parts used on the demo's requests; two 8TB disks out for a planned job, which takes the 8TB disk below its
    minimum: the one low-stock alert of the demo."""
    from aftersales.service.models import ServiceRequest, WorkOrder

    reader_job = ServiceRequest.objects.filter(title="门禁读卡器不识别").first()
    ma = vans.get("engineer2")
    if reader_job is not None and ma is not None:
        work_order = WorkOrder.objects.filter(request=reader_job).first()
        services.use_part(part=parts["DS-K1101M"], location=ma, quantity=1, by=ma.engineer, request=reader_job,
                          work_order=work_order)
        if work_order is not None:
            from aftersales.billing.services import reissue_for_work_order

            reissue_for_work_order(work_order)  # the reader is now on the work order's charge sheet
        services.return_defective(part=parts["DS-K1101M"], location=ma, quantity=1, by=ma.engineer,
                                  request=reader_job, reference="客户东门拆回")
    disk_job = ServiceRequest.objects.filter(title="NVR 硬盘告警").first()
    services.reserve(part=parts["ST8000VE001"], location=warehouse, quantity=2, by=clerk, request=disk_job)
    zhang = vans.get("engineer")
    screen_job = ServiceRequest.objects.filter(title="监控中心大屏全部黑屏").first()
    if zhang is not None:
        services.use_part(part=parts["DS-2FA1202-C"], location=zhang, quantity=1, by=zhang.engineer,
                          request=screen_job)
