"""SRQ-9: articles are reviewed by a technical advisor or a manager, never by their author; an engineer cannot
publish; a stale version is a 409 with nothing written."""

import pytest

from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.knowledge import services
from aftersales.knowledge.models import Article

from ..conftest import api_as


@pytest.fixture
def draft(engineer):
    return services.write_article(by=engineer, title="门禁无法开门", symptom="刷卡无反应", fix="检查读卡器接线")


def test_the_author_submits_and_an_advisor_publishes(draft, engineer, advisor):
    article = services.submit_for_review(article=draft, by=engineer, version=draft.version)
    article = services.publish(article=article, by=advisor, version=article.version, note="步骤清楚")
    article.refresh_from_db()
    assert (article.state, article.reviewer, article.review_note) == ("published", advisor, "步骤清楚")
    assert article.reviewed_at is not None


def test_an_advisor_cannot_review_their_own_article(advisor):
    own = services.write_article(by=advisor, title="硬盘报警", symptom="蜂鸣", fix="更换硬盘")
    with pytest.raises(DomainError):
        services.publish(article=own, by=advisor, version=own.version)
    own.refresh_from_db()
    assert (own.state, own.reviewer_id) == ("draft", None)


def test_an_engineer_cannot_publish(draft, engineer, dispatcher):
    for user in (engineer, dispatcher):
        with pytest.raises(DomainError):
            services.publish(article=draft, by=user, version=draft.version)
    draft.refresh_from_db()
    assert draft.state == "draft"


def test_a_manager_may_review(draft, manager):
    assert services.publish(article=draft, by=manager, version=draft.version).state == "published"


def test_a_stale_version_writes_nothing(draft, advisor, engineer):
    services.submit_for_review(article=draft, by=engineer, version=draft.version)
    with pytest.raises(StaleObject):
        services.publish(article=draft, by=advisor, version=draft.version)  # the version before the submit
    assert Article.objects.get(pk=draft.pk).state == "review"


def test_send_back_needs_a_note_and_returns_a_draft(draft, engineer, advisor):
    article = services.submit_for_review(article=draft, by=engineer, version=draft.version)
    with pytest.raises(DomainError):
        services.send_back(article=article, by=advisor, version=article.version, note=" ")
    article = services.send_back(article=article, by=advisor, version=article.version, note="补充型号")
    assert (article.state, article.review_note) == ("draft", "补充型号")


def test_a_retired_article_cannot_be_published(draft, advisor, manager):
    article = services.retire(article=draft, by=advisor, version=draft.version)
    with pytest.raises(IllegalTransition):
        services.publish(article=article, by=manager, version=article.version)


def test_only_the_author_edits_a_draft_and_nobody_but_a_reviewer_a_published_one(draft, engineer, dispatcher, advisor):
    with pytest.raises(DomainError):
        services.edit_article(article=draft, by=dispatcher, version=draft.version, title="x", symptom="y", fix="z")
    article = services.publish(article=draft, by=advisor, version=draft.version)
    with pytest.raises(DomainError):
        services.edit_article(article=article, by=engineer, version=article.version, title="x", symptom="y", fix="z")
    article = services.edit_article(article=article, by=advisor, version=article.version, title="门禁刷卡无反应",
                                    symptom="刷卡无反应", fix="检查读卡器")
    assert (article.title, article.state) == ("门禁刷卡无反应", "published")


def test_api_review_rules(draft, engineer, advisor):
    assert api_as(engineer).post(f"/api/articles/{draft.pk}/review/", {"version": draft.version}).status_code == 403
    stale = api_as(advisor).post(f"/api/articles/{draft.pk}/review/", {"version": draft.version + 5})
    assert (stale.status_code, stale.json()["code"]) == (409, "stale")
    ok = api_as(advisor).post(f"/api/articles/{draft.pk}/review/", {"version": draft.version})
    assert (ok.status_code, ok.json()["state"], ok.json()["reviewer"]) == (200, "published", advisor.display_name)


def test_api_bad_input_is_a_400_with_the_field(engineer):
    response = api_as(engineer).post("/api/articles/", {"title": "", "symptom": "x", "fix": "y"})
    assert response.status_code == 400
    assert "title" in str(response.json())
