"""Issue 22 §6 demo: a fault on the device whose warranty and contracts have ended (contracts/demo.py), repaired with a
part from an engineer's van of that branch: its charge sheet charges the part at its purchase cost and nothing else."""

from aftersales.accounts.models import Position, User
from aftersales.assets.models import Device
from aftersales.parts import selectors as parts_selectors
from aftersales.service import verbs
from aftersales.service.models import ServiceRequest
from aftersales.service.part_lines import PartLine


def load(expired_device_id) -> dict:
    device = Device.objects.select_related("project").filter(pk=expired_device_id).first()
    if device is None:
        return {"charged": 0}
    branch = device.project.branch_id
    desk = User.objects.filter(branch=branch, position=Position.DISPATCHER).order_by("pk").first()
    for engineer in User.objects.filter(branch=branch, position=Position.ENGINEER).order_by("pk"):
        van = parts_selectors.van_of(engineer)
        stock = [row for row in parts_selectors.van_contents(van) if row.available > 0] if van else []
        if desk and stock:
            break
    else:
        return {"charged": 0}

    def seen(request) -> int:
        return ServiceRequest.objects.values_list("version", flat=True).get(pk=request.pk)

    request = verbs.open_request(by=desk, project=device.project, priority="general", channel="phone",
                                 title=f"{device.name} 故障（已过保）", description="设备已过保修期和维保期，需更换备件",
                                 devices=[device])
    verbs.reply(request=request, version=seen(request), by=desk, mode="remote", plan="远程指导更换备件")
    part = stock[0].part
    verbs.submit_work_order(request=request, version=seen(request), by=engineer, actions="更换损坏部件，设备恢复正常",
                            parts=[PartLine(part, 1)], minutes_spent=40, result="solved")
    return {"charged": 1, "request": request.pk}
