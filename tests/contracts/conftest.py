from datetime import date

import pytest

from aftersales.contracts import services
from aftersales.contracts.models import Renewal


def make_contract(project, by=None, *, number="WB-2026-001", starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31),
                  **extra):
    return services.create_contract(by=by, project=project, number=number, starts_on=starts_on, ends_on=ends_on,
                                    **extra)


@pytest.fixture
def contract_a(project_a, dispatcher):
    """A tacit contract for the whole of project A: 2026, 7×24."""
    return make_contract(project_a, dispatcher, renewal=Renewal.TACIT, notice_days=30, response_tier="7x24")


@pytest.fixture
def contract_b(project_b, general_manager):
    return make_contract(project_b, general_manager, number="WB-SH-2026-001")
