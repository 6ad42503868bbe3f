"""Demo of the approval gate (INS-2, issue 23 §2), through the verbs and dated from today: the hospital's quarterly plan
(which needs the customer's approval) generates three quarters ahead; the next round has our window answered by the
customer with another one (waiting for the desk to accept it), the one after was approved through the mailed link,
and the last waits for the customer's answer (their portal lists it)."""

from datetime import datetime, time, timedelta

from aftersales.accounts.models import User

from . import approvals, services
from .models import InspectionRound, RoundState

SCOPE = "例行检查全部设备;清洁摄像机镜头与防护罩、门禁读卡器;测试录像回放;更换老化电源适配器"


def _at(day, hour) -> datetime:
    from aftersales.core import clock

    return datetime.combine(day, time(hour), tzinfo=clock.SHANGHAI)


def _send(round_, manager, *, day_offset, start, end, note=""):
    round_.refresh_from_db()
    day = round_.due_on + timedelta(days=day_offset)
    return approvals.send_window(round=round_, by=manager, version=round_.version, starts_at=_at(day, start),
                                 ends_at=_at(day, end), scope=SCOPE, downtime_minutes=40, note=note)


def load(*, plan, manager) -> dict:
    if plan is None or not plan.needs_approval:
        return {"approval_windows": 0}
    plan.refresh_from_db()
    services.update_plan(plan=plan, by=manager, version=plan.version, horizon_days=300)
    rounds = list(InspectionRound.objects.filter(plan=plan, state=RoundState.AWAITING_APPROVAL)
                  .order_by("due_on")[:3])
    contact = User.objects.filter(username="hospital").first()
    if len(rounds) < 3 or contact is None:
        return {"approval_windows": 0}
    proposed, by_link, waiting = rounds
    ours = _send(proposed, manager, day_offset=0, start=9, end=12)
    approvals.propose_window(proposal=ours, by=contact, starts_at=_at(proposed.due_on + timedelta(days=4), 14),
                             ends_at=_at(proposed.due_on + timedelta(days=4), 17), note="20日上午门诊高峰,请改到下午",
                             via=approvals.VIA_PORTAL)
    ours = _send(by_link, manager, day_offset=0, start=9, end=11)
    approvals.approve_window(proposal=ours, by=None, name="丁医生", via=approvals.VIA_LINK)
    _send(waiting, manager, day_offset=1, start=9, end=12, note="如需调整时间,请在链接中另提时间")
    return {"approval_windows": 3}
