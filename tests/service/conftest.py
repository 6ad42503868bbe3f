from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from aftersales.accounts import roles
from aftersales.accounts.models import Position

from ..factories import StaffFactory

SH = ZoneInfo("Asia/Shanghai")


def shanghai(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def advisor(branch_b):
    return StaffFactory(username="advisor", branch=branch_b, position=Position.TECHNICAL_ADVISOR, role=roles.TECHNICAL_ADVISOR)
