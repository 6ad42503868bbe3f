from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from aftersales.accounts import roles
from aftersales.accounts.models import Position

from ..factories import StaffFactory

SH = ZoneInfo("Asia/Shanghai")


def shanghai(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


class FrozenClock:
    def __init__(self, traveller):
        self._traveller = traveller

    def shift(self, delta):
        self._traveller.shift(delta)

    def move_to(self, when):
        self._traveller.move_to(when)


@pytest.fixture
def frozen_clock():
    with time_machine.travel(shanghai(2026, 11, 26, 10, 0), tick=False) as traveller:
        yield FrozenClock(traveller)


@pytest.fixture
def advisor(branch_b):
    return StaffFactory(username="advisor", branch=branch_b, position=Position.TECHNICAL_ADVISOR, role=roles.TECHNICAL_ADVISOR)
