"""SRQ-9: a solved request becomes a draft article in one action — its title and description as the symptom, its
incident report's cause, its work orders' actions as the fix, its devices' model and manufacturer — and a second
click opens the same draft."""

import pytest
from django.urls import reverse

from aftersales.core.errors import IllegalTransition
from aftersales.knowledge import services
from aftersales.knowledge.models import Article
from aftersales.service import verbs

from ..factories import current_version


@pytest.fixture
def solved(customer_user_a, project_a, device_a, admin_user):
    request = verbs.open_request(by=customer_user_a, project=project_a, priority="general", channel="portal",
                                 title="三号摄像机黑屏", description="大门口摄像机无图像", devices=[device_a])
    verbs.reply(request=request, by=admin_user, version=current_version(request), mode="remote", plan="远程处理")
    verbs.submit_work_order(request=request, by=admin_user, version=current_version(request),
                            actions="重新插拔电源适配器后恢复", minutes_spent=20, result="solved")
    verbs.save_incident_report(request=request, by=admin_user, version=None, cause="电源适配器老化", impact="无图像",
                               timeline="09:00", fix="更换适配器", prevention="巡检")
    request.refresh_from_db()
    return request


def test_propose_writes_the_draft_from_the_request(solved, engineer, device_a):
    article, created = services.propose_from_request(request=solved, by=engineer)
    assert created
    assert (article.state, article.author, article.source_request) == ("draft", engineer, solved)
    assert "三号摄像机黑屏" in article.symptom and "大门口摄像机无图像" in article.symptom
    assert article.cause == "电源适配器老化"
    assert article.fix == "重新插拔电源适配器后恢复"
    assert article.device_models == device_a.model
    assert article.manufacturer == device_a.manufacturer


def test_a_second_click_opens_the_same_draft(solved, client, engineer):
    client.force_login(engineer)
    url = reverse("knowledge:propose", args=[solved.pk])
    first = client.post(url)
    second = client.post(url)
    article = Article.objects.get(source_request=solved)
    assert Article.objects.count() == 1
    assert first["Location"] == second["Location"] == reverse("knowledge:article_edit", args=[article.pk])


def test_an_open_request_cannot_be_proposed(customer_user_a, project_a, engineer):
    request = verbs.open_request(by=customer_user_a, project=project_a, priority="general", channel="portal",
                                 title="录像丢失", description="三号 NVR")
    with pytest.raises(IllegalTransition):
        services.propose_from_request(request=request, by=engineer)
    assert not Article.objects.exists()


def test_another_branchs_request_is_a_404(solved, client, general_manager, engineer):
    from aftersales.accounts import roles

    from ..factories import StaffFactory

    other = StaffFactory(username="engineer_b", branch=general_manager.branch, role=roles.ENGINEER)
    client.force_login(other)
    assert client.post(reverse("knowledge:propose", args=[solved.pk])).status_code == 404
    assert not Article.objects.exists()


def test_the_request_page_offers_the_button_on_a_solved_request(solved, client, engineer):
    client.force_login(engineer)
    page = client.get(solved.get_absolute_url()).content.decode()
    assert reverse("knowledge:propose", args=[solved.pk]) in page
