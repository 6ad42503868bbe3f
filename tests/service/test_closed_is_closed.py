"""Issue 21 §4: closed means closed. The priority and the targets of a closed or cancelled request do not change
(409, nothing written); neither do its pauses."""

import pytest

from aftersales.core.errors import IllegalTransition
from aftersales.service import verbs
from aftersales.service.models import Target, TimelineEvent

from ..conftest import api_as
from ..factories import current_version


def finished(kind, dispatcher, engineer, customer_user_a, project_a):
    request = verbs.open_request(by=dispatcher, project=project_a, priority="general", channel="phone",
                                 title="录像丢失", description="三号 NVR")
    if kind == "cancelled":
        return verbs.cancel(request=request, by=dispatcher, version=current_version(request), reason="误报")
    verbs.reply(request=request, by=dispatcher, version=current_version(request), mode="remote", plan="远程")
    work_order = verbs.submit_work_order(request=request, by=engineer, version=current_version(request),
                                         actions="重启", minutes_spent=5, result="solved")
    verbs.confirm_work_order(work_order=work_order, by=customer_user_a, version=work_order.version, via="portal")
    request.refresh_from_db()
    return request


def written(request) -> tuple:
    return (list(Target.objects.filter(request=request).values_list("kind", "minutes", "due_at").order_by("kind")),
            TimelineEvent.objects.filter(request=request).count(), current_version(request))


@pytest.mark.parametrize("kind", ["closed", "cancelled"])
def test_a_finished_requests_priority_and_targets_do_not_change(kind, frozen_clock, dispatcher, engineer,
                                                                 customer_user_a, project_a):
    request = finished(kind, dispatcher, engineer, customer_user_a, project_a)
    before = written(request)
    with pytest.raises(IllegalTransition):
        verbs.change_priority(request=request, by=dispatcher, version=current_version(request), priority="emergency",
                              reason="客户要求")
    with pytest.raises(IllegalTransition):
        verbs.pause(request=request, by=dispatcher, version=current_version(request), reason="等待")
    answer = api_as(dispatcher).post(f"/api/requests/{request.pk}/priority/",
                                     {"version": current_version(request), "priority": "emergency"}, format="json")
    assert answer.status_code == 409 and answer.json()["code"] == "illegal_transition"
    assert written(request) == before
