"""Issue 21 §2: a temporary fix (临时处理) confirmed by the customer restores the service (the resolution target is met
by the restoration) but does not close the request: it stays open, visibly "temporary fix in place", until a
permanent fix is confirmed. Reports tell the two apart."""

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile

from aftersales.service import exporting, sweep, verbs
from aftersales.service.models import AlertKind, EventKind, ServiceRequest, SlaAlert, State, Target, TimelineEvent

from ..factories import current_version


def screenshot():
    return SimpleUploadedFile("before.txt", b"camera 12 offline\n", content_type="text/plain")


def on_site(frozen_clock, dispatcher, engineer, project_a) -> ServiceRequest:
    request = verbs.open_request(by=dispatcher, project=project_a, priority="emergency", channel="phone",
                                 title="监控中心黑屏", description="解码器无输出")
    verbs.dispatch(request=request, by=dispatcher, version=current_version(request), engineer=engineer)
    frozen_clock.shift(timedelta(minutes=5))
    verbs.depart(request=request, by=engineer)
    frozen_clock.shift(timedelta(minutes=40))
    verbs.arrive(request=request, by=engineer, confirmed_by_customer=True)
    return request


def test_a_confirmed_temporary_fix_restores_the_service_and_keeps_the_request_open(
        frozen_clock, dispatcher, engineer, customer_user_a, project_a):
    request = on_site(frozen_clock, dispatcher, engineer, project_a)
    frozen_clock.shift(timedelta(minutes=30))
    temporary = verbs.submit_work_order(request=request, by=engineer, version=current_version(request),
                                        actions="换上备用解码器，画面恢复", minutes_spent=30, result="workaround",
                                        uploads=[screenshot()])
    verbs.confirm_work_order(work_order=temporary, by=customer_user_a, version=temporary.version, via="portal",
                             satisfaction=4, comment="先用着，请尽快彻底修好")
    request.refresh_from_db()
    assert request.state == State.RESTORED and request.is_open
    assert request.restored_at is not None and request.closed_at is None
    resolution = Target.objects.get(request=request, kind="resolution")
    assert resolution.met_at is not None and resolution.breached_at is None  # met by the restoration
    confirmed = TimelineEvent.objects.get(request=request, kind=EventKind.CONFIRMED)
    assert confirmed.data["temporary"] is True

    frozen_clock.shift(timedelta(days=2))  # the permanent fix takes days: no target escalates meanwhile
    sweep.sweep()
    assert not SlaAlert.objects.filter(request=request, kind=AlertKind.ESCALATION).exists()

    # The permanent fix: another visit, a solved work order, the customer's confirmation closes it.
    verbs.dispatch(request=request, by=dispatcher, version=current_version(request), engineer=engineer)
    verbs.depart(request=request, by=engineer)
    verbs.arrive(request=request, by=engineer, confirmed_by_customer=True)
    permanent = verbs.submit_work_order(request=request, by=engineer, version=current_version(request),
                                        actions="更换故障解码器主板", minutes_spent=60, result="solved")
    verbs.confirm_work_order(work_order=permanent, by=customer_user_a, version=permanent.version, via="portal")
    request.refresh_from_db()
    assert request.state == State.CLOSED and request.restored_at is not None


def test_the_export_tells_a_restored_request_from_a_fixed_one(frozen_clock, dispatcher, engineer, customer_user_a,
                                                             project_a):
    request = on_site(frozen_clock, dispatcher, engineer, project_a)
    temporary = verbs.submit_work_order(request=request, by=engineer, version=current_version(request),
                                        actions="临时绕行", minutes_spent=10, result="workaround",
                                        uploads=[screenshot()])
    verbs.confirm_work_order(work_order=temporary, by=customer_user_a, version=temporary.version, via="portal")
    row = next(exporting.records(ServiceRequest.objects.filter(pk=request.pk)))
    assert row[6] == str(State.RESTORED.label) and row[-1] is not None


def test_a_restored_request_can_be_cancelled_but_not_closed_without_a_fix(frozen_clock, dispatcher, engineer,
                                                                          customer_user_a, project_a):
    request = on_site(frozen_clock, dispatcher, engineer, project_a)
    temporary = verbs.submit_work_order(request=request, by=engineer, version=current_version(request),
                                        actions="临时绕行", minutes_spent=10, result="workaround",
                                        uploads=[screenshot()])
    verbs.confirm_work_order(work_order=temporary, by=customer_user_a, version=temporary.version, via="portal")
    request.refresh_from_db()
    verbs.cancel(request=request, by=dispatcher, version=current_version(request), reason="业主决定更换整套系统，不再修复")
    request.refresh_from_db()
    assert request.state == State.CANCELLED


def test_the_customer_is_told_before_confirming_a_temporary_fix(client, frozen_clock, dispatcher, engineer,
                                                                customer_user_a, project_a):
    request = on_site(frozen_clock, dispatcher, engineer, project_a)
    verbs.submit_work_order(request=request, by=engineer, version=current_version(request), actions="临时绕行",
                            minutes_spent=10, result="workaround", uploads=[screenshot()])
    client.force_login(customer_user_a)
    assert "temporary-fix-note" in client.get(request.get_absolute_url()).content.decode()
