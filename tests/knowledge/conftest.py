import pytest

from aftersales.accounts import roles
from aftersales.accounts.models import Position
from aftersales.knowledge import services

from ..factories import StaffFactory


@pytest.fixture
def advisor(branch_b):
    return StaffFactory(username="advisor", branch=branch_b, position=Position.TECHNICAL_ADVISOR,
                        role=roles.TECHNICAL_ADVISOR)


@pytest.fixture
def second_advisor(branch_b):
    return StaffFactory(username="advisor2", branch=branch_b, position=Position.TECHNICAL_ADVISOR,
                        role=roles.TECHNICAL_ADVISOR)


@pytest.fixture
def publish_article(engineer, advisor):
    """An article written by the engineer and published by the advisor."""

    def make(title="摄像机黑屏", symptom="画面全黑", fix="检查供电\n重启摄像机", customer_visible=False, **more):
        article = services.write_article(by=engineer, title=title, symptom=symptom, fix=fix,
                                         customer_visible=customer_visible, **more)
        return services.publish(article=article, by=advisor, version=article.version)

    return make
