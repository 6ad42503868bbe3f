"""Trainings (issue 23 §9): sessions of customer A's and customer B's projects brought to each state through the
verbs, and a signature as the signature pad sends it."""

import base64
from datetime import datetime, timedelta

import pytest
from django.core.files.base import ContentFile

from aftersales.core import clock
from aftersales.training import services
from aftersales.training.demo import signature_png
from aftersales.training.models import SessionKind, Venue

from ..factories import current_version

PNG = signature_png(120, 40)
DATA_URL = "data:image/png;base64," + base64.b64encode(PNG).decode("ascii")
FEEDBACK = {"evaluation": "讲解清楚,实操充分", "opinions": "希望增加故障处理演练", "rating": 5, "signer_name": "马红梅"}


def signature():
    return ContentFile(PNG, name="signature.png")


def plan(project, by, *, title="平台操作培训", hours_from_now=-1, **overrides):
    """A session that started an hour ago (so it may be recorded as held) unless told otherwise."""
    starts = clock.now().replace(microsecond=0) + timedelta(hours=hours_from_now)
    arguments = {"by": by, "project": project, "title": title, "kind": SessionKind.HANDOVER, "venue": Venue.ON_SITE,
                 "place": "监控中心", "starts_at": starts, "ends_at": starts + timedelta(hours=2),
                 "content": "录像回放\n用户管理", "trainers": [by] if not by.customer_id else [],
                 "attendees": [services.AttendeeIn("李强", "值班长", "13900000001"), services.AttendeeIn("王芳", "值班员")]}
    return services.plan_session(**{**arguments, **overrides})


def hold(session, by):
    return services.record_held(session=session, by=by, version=current_version(session),
                                present=list(session.attendees.all()), summary="全部讲授")


def sign(session, **overrides):
    arguments = {"session": session, "version": current_version(session), "via": "screen",
                 "signature": signature(), **FEEDBACK}
    return services.sign_feedback(**{**arguments, **overrides})


@pytest.fixture
def planned_a(frozen_clock, project_a, engineer):
    return plan(project_a, engineer)


@pytest.fixture
def held_a(planned_a, engineer):
    return hold(planned_a, engineer)


@pytest.fixture
def planned_b(frozen_clock, project_b, general_manager):
    return plan(project_b, general_manager, title="地铁平台培训")


@pytest.fixture
def held_b(planned_b, general_manager):
    return hold(planned_b, general_manager)


def local(year, month, day, hour, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=clock.SHANGHAI)
