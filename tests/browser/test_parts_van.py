"""Issue 22 §5: an engineer on a 390 px phone opens "My van", picks a part from it, says which request it was for and
uses it in one action; the van then shows one fewer, the ledger holds one movement with the part's purchase cost, and
asking for more than is left is refused as out of stock, on the same page. Nothing scrolls sideways. Screenshots go to
the test's output folder."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from aftersales.accounts import roles
from aftersales.accounts.models import Position
from aftersales.parts import services
from aftersales.parts.models import Location, LocationKind, Movement, Part
from aftersales.service import verbs
from tests.browser.test_phone_lists import PHONE, new_page, shoot  # noqa: F401 - new_page is a fixture
from tests.factories import ManufacturerFactory, StaffFactory, current_version

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_engineer_uses_a_part_from_the_van_on_a_phone(live_server, new_page, engineer, dispatcher, project_a,  # noqa: F811
                                                         branch_a, output_path):
    clerk = StaffFactory(username="logistics", branch=branch_a, position=Position.LOGISTICS, role=roles.LOGISTICS)
    maker = ManufacturerFactory(name="海康威视")
    adapter = Part.objects.create(manufacturer=maker, part_number="DS-2FA1202-C", name="电源适配器 12V 2A",
                                  purchase_cost=Decimal("45.00"))
    disk = Part.objects.create(manufacturer=maker, part_number="ST4000VX015", name="监控硬盘 4TB",
                               purchase_cost=Decimal("520.00"))
    van = Location.objects.create(kind=LocationKind.VAN, name="张工随车", branch=branch_a, engineer=engineer)
    services.receive(part=adapter, location=van, quantity=3, by=clerk)
    services.receive(part=disk, location=van, quantity=1, by=clerk)
    job = verbs.open_request(by=dispatcher, project=project_a, priority="serious", channel="phone",
                             title="东门摄像机无画面", description="电源适配器疑似损坏")
    verbs.dispatch(request=job, by=dispatcher, version=current_version(job), engineer=engineer)

    page = new_page(live_server, "engineer", **PHONE)
    page.goto(f"{live_server.url}/parts/van/")
    expect(page.locator(".van-item")).to_have_count(2)
    shoot(page, output_path, "van-390")
    card = page.locator(f".van-item[data-part='{adapter.pk}']")
    expect(card.locator(".van-available")).to_have_text("3")
    card.get_by_role("link").click()  # "use": the form with this part chosen
    page.select_option("#id_request", str(job.pk))
    page.fill("#id_quantity", "1")
    shoot(page, output_path, "van-use-form-390")
    page.locator("form.use-part button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator(f".van-item[data-part='{adapter.pk}'] .van-available")).to_have_text("2")
    used = Movement.objects.get(kind="used")
    assert (used.part, used.location, used.request, used.quantity, used.unit_cost) == (adapter, van, job, 1,
                                                                                       Decimal("45.00"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing scrolls sideways
    shoot(page, output_path, "van-after-use-390")

    # more than the van holds: out of stock, said under the quantity; nothing written
    page.select_option("#id_part", str(disk.pk))
    page.fill("#id_quantity", "2")
    page.locator("form.use-part button[type=submit]").click()
    expect(page.locator("form.use-part .invalid-feedback")).to_be_visible()
    assert Movement.objects.filter(kind="used").count() == 1
    shoot(page, output_path, "van-out-of-stock-390")
