"""TRN-2: a project's handover checklist; the project runs independently (独立运行) only when every capability was
demonstrated by the customer's own staff, with who, when and in which session."""

from datetime import timedelta

import pytest
from django.urls import reverse

from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.training import selectors, services
from aftersales.training.models import HandoverItem, TrainingLog

from ..factories import current_version
from .conftest import plan


def mark(item, by, **overrides):
    arguments = {"item": item, "by": by, "version": current_version(item), "demonstrated_by": "李强"}
    return services.mark_demonstrated(**{**arguments, **overrides})


@pytest.fixture
def checklist_a(frozen_clock, project_a, engineer):
    return services.start_checklist(project=project_a, by=engineer)


def test_the_standard_checklist_is_added_once(checklist_a, project_a, engineer):
    assert len(checklist_a) == len(services.STANDARD_CHECKLIST) == 7
    assert services.start_checklist(project=project_a, by=engineer) == []
    assert [item.position for item in selectors.handover_items(project_a)] == list(range(1, 8))


def test_the_project_runs_independently_only_when_every_item_is_demonstrated(checklist_a, project_a, engineer,
                                                                               held_a):
    assert not selectors.handover_status(project_a).independent
    for item in checklist_a[:-1]:
        mark(item, engineer, session=held_a)
    status = selectors.handover_status(project_a)
    assert (status.done, status.total, status.independent) == (6, 7, False)
    last = mark(checklist_a[-1], engineer, demonstrated_by="王芳", note="独立处理了一次硬盘告警")
    assert (last.demonstrated_by, last.demonstrated_on, last.session, last.recorded_by) == (
        "王芳", clock.today(), None, engineer)
    assert selectors.handover_status(project_a).independent
    services.add_checklist_item(project=project_a, by=engineer, capability="导出卡口过车记录")
    assert not selectors.handover_status(project_a).independent  # a new capability is not demonstrated yet
    assert not selectors.HandoverStatus(0, 0).independent  # no checklist is not a handover


def test_taking_a_mark_back_keeps_it_in_the_log(checklist_a, project_a, engineer):
    for item in checklist_a:
        mark(item, engineer)
    reopened = services.reopen_item(item=checklist_a[0], by=engineer, version=current_version(checklist_a[0]),
                                    reason="李强已离职")
    assert not reopened.done and not selectors.handover_status(project_a).independent
    line = TrainingLog.objects.get(item=reopened, kind="reopened")
    assert line.data["before"]["demonstrated_by"] == "李强" and line.data["reason"] == "李强已离职"
    with pytest.raises(IllegalTransition):
        services.reopen_item(item=reopened, by=engineer, version=current_version(reopened), reason="again")


def test_an_item_is_marked_once_and_a_stale_mark_is_refused(checklist_a, engineer, dispatcher):
    item = checklist_a[0]
    seen = item.version
    mark(item, dispatcher)
    with pytest.raises(StaleObject):
        services.mark_demonstrated(item=item, by=engineer, version=seen, demonstrated_by="王芳")
    with pytest.raises(IllegalTransition):
        mark(item, engineer, demonstrated_by="王芳")
    assert HandoverItem.objects.get(pk=item.pk).demonstrated_by == "李强"


def test_the_session_must_be_a_held_one_of_the_same_project(checklist_a, engineer, planned_a, held_b):
    for session in (planned_a, held_b):
        with pytest.raises(DomainError) as refused:
            mark(checklist_a[0], engineer, session=session)
        assert refused.value.field == "session"
    with pytest.raises(DomainError) as refused:
        mark(checklist_a[0], engineer, demonstrated_on=clock.today() + timedelta(days=1))
    assert refused.value.field == "demonstrated_on"
    with pytest.raises(DomainError) as refused:
        mark(checklist_a[0], engineer, demonstrated_by=" ")
    assert refused.value.field == "demonstrated_by"
    assert not HandoverItem.objects.filter(demonstrated_on__isnull=False).exists()


def test_a_capability_is_on_the_list_once(checklist_a, project_a, engineer):
    with pytest.raises(DomainError) as refused:
        services.add_checklist_item(project=project_a, by=engineer, capability=checklist_a[0].capability)
    assert (refused.value.status, refused.value.field) == (409, "capability")


def test_the_checklist_page_shows_independent_operation_and_is_scoped(client, checklist_a, project_a, project_b,
                                                                      engineer, customer_user_a, customer_user_b):
    page = reverse("training:handover", args=[project_a.pk])
    client.force_login(customer_user_a)
    body = client.get(page).content.decode()
    assert 'data-independent="no"' in body and body.count("checklist-item") == 7
    assert reverse("training:item_demonstrated", args=[checklist_a[0].pk]) not in body  # customers read only
    assert client.get(reverse("training:item_demonstrated", args=[checklist_a[0].pk])).status_code == 403
    for item in checklist_a:
        mark(item, engineer)
    assert 'data-independent="yes"' in client.get(page).content.decode()
    listed = client.get(reverse("training:handover_list")).content.decode()
    assert f'data-project="{project_a.pk}"' in listed and f'data-project="{project_b.pk}"' not in listed
    client.force_login(customer_user_b)
    assert client.get(page).status_code == 404
    assert client.get(reverse("training:item_reopen", args=[checklist_a[0].pk])).status_code == 403  # no permission


def test_staff_mark_and_add_through_the_pages(client, checklist_a, project_a, engineer, held_a):
    client.force_login(engineer)
    item = checklist_a[0]
    form = client.get(reverse("training:item_demonstrated", args=[item.pk])).content.decode()
    assert f'value="{held_a.pk}"' in form  # the held sessions of the project are offered
    response = client.post(reverse("training:item_demonstrated", args=[item.pk]), {
        "version": item.version, "demonstrated_by": "李强", "demonstrated_on": clock.today().isoformat(),
        "session": held_a.pk, "note": ""})
    assert response.status_code == 302
    assert HandoverItem.objects.get(pk=item.pk).session_id == held_a.pk
    stale = client.post(reverse("training:item_demonstrated", args=[item.pk]), {
        "version": item.version, "demonstrated_by": "王芳", "demonstrated_on": clock.today().isoformat()},
        HTTP_HX_REQUEST="true")
    assert stale.status_code == 409
    added = client.post(reverse("training:handover_add", args=[project_a.pk]), {"capability": "导出卡口过车记录"})
    assert added.status_code == 302 and HandoverItem.objects.filter(project=project_a).count() == 8
    again = client.post(reverse("training:handover_add", args=[project_a.pk]), {"capability": "导出卡口过车记录"})
    assert again.status_code == 200 and HandoverItem.objects.filter(project=project_a).count() == 8


def test_an_item_shows_the_session_it_was_demonstrated_in(client, checklist_a, engineer, held_a):
    mark(checklist_a[0], engineer, session=held_a)
    client.force_login(engineer)
    assert checklist_a[0].capability in client.get(held_a.get_absolute_url()).content.decode()


def test_sessions_of_the_plan_fixture_are_in_the_past(frozen_clock, project_a, engineer):
    assert plan(project_a, engineer).starts_at < clock.now()
