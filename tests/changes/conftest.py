"""Change notices (issue 25 §4, LOG-3): notices of customer A's and customer B's projects, brought to each state
through the verbs. The suite's clock is frozen at 2026-11-26 10:00 Shanghai (tests/conftest.py: frozen_clock)."""

from datetime import timedelta

import pytest

from aftersales.changes import services
from aftersales.changes.models import ChangeKind, TestResult, Verdict
from aftersales.core import clock

from ..factories import current_version


def submit(project, by, *, starts_in=timedelta(days=3), hours=2, **overrides):
    """A notice of a change whose window opens `starts_in` from now and lasts `hours`."""
    starts = clock.now().replace(microsecond=0) + starts_in
    arguments = {"by": by, "project": project, "kind": ChangeKind.PATCH, "title": "服务器安装安全补丁",
                 "description": "视频管理服务器安装 Windows 累积更新", "window_starts_at": starts,
                 "window_ends_at": starts + timedelta(hours=hours)}
    return services.submit_notice(**{**arguments, **overrides})


def test(notice, by, **overrides):
    arguments = {"subject": "实验室安装补丁后运行平台", "environment": "实验室测试机", "result": TestResult.PASSED,
                 "evidence": "预览、回放正常"}
    return services.record_test(notice=notice, by=by, version=current_version(notice), **{**arguments, **overrides})


test.__test__ = False  # a helper, not a test


def answer(notice, by, verdict=Verdict.COMPATIBLE, text="兼容,可按计划实施。"):
    return services.answer_notice(notice=notice, by=by, version=current_version(notice), verdict=verdict, answer=text)


@pytest.fixture
def notice_a(frozen_clock, project_a, customer_user_a, dispatcher):
    return submit(project_a, customer_user_a)


@pytest.fixture
def notice_b(frozen_clock, project_b, customer_user_b):
    return submit(project_b, customer_user_b)
