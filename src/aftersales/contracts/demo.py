"""Demo maintenance contracts (issue 22 §1), dated from today so the demo shows the same whenever it is loaded:

- 银川天网三期 (warranty over): a tacit 7×24 contract for the whole project, already renewed once (by the daily job);
- the hospital: an express contract for a few listed devices (labour and on-site, no parts), ending within 30 days;
- one hospital device out of warranty and out of any contract (the charge sheet of issue 22 §6 needs one).
"""

from datetime import timedelta

from aftersales.accounts.models import User
from aftersales.assets.models import Device
from aftersales.assets.warranty import add_months
from aftersales.core import clock
from aftersales.customers.models import Project

from . import services
from .models import Renewal, ReplacementCoverage, ResponseTier, ServiceContract

EXPIRED_DEVICE_NOTE = "演示:已过保,且不在任何维保合同内(维修按过保规则计费)"


def load() -> dict:
    """Create the demo contracts once (inside demo.data.load's transaction); a second call changes nothing."""
    if ServiceContract.objects.exists():
        return {"contracts": 0}
    today = clock.today()
    desk = User.objects.filter(username="dispatcher").first()
    skynet = Project.objects.filter(contract_number="NXZD-2021-031").first()
    hospital = Project.objects.filter(contract_number="NXZD-2022-018").first()
    if skynet is None or hospital is None:
        return {"contracts": 0}

    # Tacit, whole project: a year that ended about two months ago, renewed for a year by the daily job (by=None).
    first_start = add_months(today.replace(day=1), -14)
    tacit = services.create_contract(
        by=desk, project=skynet, number="WB-NX-2025-031", signed_on=first_start - timedelta(days=20),
        amount=186000, renewal=Renewal.TACIT, notice_days=60, replacement=ReplacementCoverage.CARRY_OVER,
        starts_on=first_start, ends_on=add_months(first_start, 12) - timedelta(days=1),
        response_tier=ResponseTier.ROUND_THE_CLOCK,
        notes="天网三期质保期满后的全系统维保,7×24 响应,含备件。合同期满默认续约,提前 60 天书面通知可终止。")
    services.renew_due_tacit(today=today)

    # Express, listed devices: ends within 30 days; parts are not covered (charged at purchase cost).
    listed = list(Device.objects.filter(project=hospital).order_by("pk")[:6])
    express = services.create_contract(
        by=desk, project=hospital, number="WB-NX-2026-018", devices=listed[:5], signed_on=today - timedelta(days=360),
        amount=42000, renewal=Renewal.EXPRESS, notice_days=30, replacement=ReplacementCoverage.RESTART,
        starts_on=today - timedelta(days=345), ends_on=today + timedelta(days=20), covers_parts=False,
        response_tier=ResponseTier.OFFICE_HOURS,
        notes="总医院核心机房设备维保:人工与上门服务,备件按采购成本另计。到期需双方书面续签。")

    # Out of warranty and out of any contract: the sixth device, its warranty over forty days ago.
    expired = listed[5] if len(listed) > 5 else None
    if expired is not None:
        ended = today - timedelta(days=40)
        expired.warranty_start_override = add_months(ended + timedelta(days=1), -36)
        expired.manufacturer_warranty_end_override = add_months(ended + timedelta(days=1), -12) - timedelta(days=1)
        expired.warranty_end_override = ended
        expired.notes = EXPIRED_DEVICE_NOTE
        expired.save()
    return {"contracts": 2, "tacit": tacit.pk, "express": express.pk, "expired_device": expired and expired.pk}
