"""One user per role (SEC-1 tests walk every URL as each of them) and two customers' worlds."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.test import APIClient

from aftersales.accounts import roles
from aftersales.accounts.models import Position

from .factories import BranchFactory, CustomerFactory, DeviceFactory, ProjectFactory, StaffFactory, UserFactory

PASSWORD = "pw-12345678"


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _empty_worker_caches():
    """Each test starts with empty per-worker copies (core/cache.py) and fragment cache: a rolled-back test sends
    no delete signals, and its rows' primary keys come again."""
    from django.core.cache import cache

    from aftersales.core.cache import clear_all

    clear_all()
    cache.clear()


FROZEN_AT = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Thursday, a working day


@pytest.fixture
def frozen_clock():
    """The one stopped clock of the suite: 2026-11-26 10:00 in Shanghai until the test moves it
    (`frozen_clock.shift(timedelta)`, `frozen_clock.move_to(datetime)`)."""
    with time_machine.travel(FROZEN_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def branch_a(db):
    return BranchFactory(name="宁夏分公司", code="nx")


@pytest.fixture
def branch_b(db):
    return BranchFactory(name="上海总部", code="sh", latitude=31.2304, longitude=121.4737)


@pytest.fixture
def customer_a(branch_a):
    return CustomerFactory(name="银川市公安局", branch=branch_a)


@pytest.fixture
def customer_b(branch_b):
    return CustomerFactory(name="上海地铁运营", branch=branch_b)


@pytest.fixture
def project_a(customer_a):
    return ProjectFactory(customer=customer_a, name="银川天网工程")


@pytest.fixture
def project_b(customer_b):
    return ProjectFactory(customer=customer_b, name="地铁视频监控")


@pytest.fixture
def device_a(project_a):
    return DeviceFactory(project=project_a)


@pytest.fixture
def device_b(project_b):
    return DeviceFactory(project=project_b)


@pytest.fixture
def customer_user_a(customer_a):
    return UserFactory(username="cust_a", customer=customer_a, role=roles.CUSTOMER_USER)


@pytest.fixture
def customer_user_b(customer_b):
    return UserFactory(username="cust_b", customer=customer_b, role=roles.CUSTOMER_USER)


@pytest.fixture
def engineer(branch_a):
    return StaffFactory(username="engineer", branch=branch_a, position=Position.ENGINEER, role=roles.ENGINEER)


@pytest.fixture
def dispatcher(branch_a):
    return StaffFactory(username="dispatcher", branch=branch_a, position=Position.DISPATCHER, role=roles.DISPATCHER)


@pytest.fixture
def manager(branch_a):
    return StaffFactory(
        username="manager", branch=branch_a, position=Position.DEPARTMENT_MANAGER, role=roles.DEPARTMENT_MANAGER
    )


@pytest.fixture
def general_manager(branch_b):
    return StaffFactory(
        username="gm", branch=branch_b, position=Position.GENERAL_MANAGER, role=roles.GENERAL_MANAGER
    )


@pytest.fixture
def admin_user(db):
    user = UserFactory(username="admin", is_staff=True, is_superuser=True, role=roles.ADMINISTRATOR)
    return user


@pytest.fixture
def api():
    return APIClient()


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Hashing strength is Django's concern; tests create many users."""
    from django.conf import settings as django_settings

    django_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _inline_tasks(settings):
    """Background tasks run inline in tests (huey immediate mode, in-memory storage)."""
    from huey.contrib.djhuey import HUEY

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous
