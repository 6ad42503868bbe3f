"""Hidden-danger reports and proposals (issue 25 §4-§5) of customer A's and customer B's projects, brought to each
state through the verbs."""

from decimal import Decimal

import pytest

from aftersales.proposals import services
from aftersales.proposals.models import ProposalKind, Risk

from ..factories import current_version

HAZARD = {"title": "机房UPS电池老化", "risk": Risk.HIGH, "description": "放电测试续航不足10分钟",
          "consequence": "断电时录像丢失", "recommendation": "更换电池", "found_where": "监控中心机房"}


def draft_report(project, by, **overrides):
    return services.create_hazard_report(by=by, project=project, **{**HAZARD, **overrides})


def sent_report(project, by, **overrides):
    report = draft_report(project, by, **overrides)
    return services.send_hazard_report(report=report, by=by, version=current_version(report))


def draft_proposal(project, by, *, options=("原厂电池更换", "电池更换并扩容"), kind=ProposalKind.SOLUTION, **fields):
    proposal = services.create_proposal(by=by, project=project, kind=kind, title=fields.pop("title", "UPS整改方案"),
                                        background="续航不足", **fields)
    for i, title in enumerate(options):
        services.add_option(proposal=proposal, by=by, version=current_version(proposal), title=title,
                            cost=Decimal(1000 * i), duration="1天", impact="无停机")
    proposal.refresh_from_db()
    return proposal


def sent_proposal(project, by, **kwargs):
    proposal = draft_proposal(project, by, **kwargs)
    return services.send_proposal(proposal=proposal, by=by, version=current_version(proposal))


@pytest.fixture
def report_a(frozen_clock, project_a, engineer, customer_user_a):
    return sent_report(project_a, engineer)


@pytest.fixture
def report_b(frozen_clock, project_b, general_manager, customer_user_b):
    return sent_report(project_b, general_manager, title="地铁交换机散热")


@pytest.fixture
def proposal_a(frozen_clock, project_a, engineer, customer_user_a):
    return sent_proposal(project_a, engineer)


@pytest.fixture
def proposal_b(frozen_clock, project_b, general_manager, customer_user_b):
    return sent_proposal(project_b, general_manager, title="地铁平台升级")
