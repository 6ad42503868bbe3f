"""SEC-2: the change history staff see names fields as users know them and never shows internals (issue 19, point 4)."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from aftersales.customers.models import Customer, Project
from aftersales.intake.models import IntegrationKey

from ..factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

INTERNALS = re.compile(r"None\b|\.None|integration_keys|contacts|projects|intake\.|customers\.|_id\b|created_at|updated_at")


def history_lines(page: str) -> list[str]:
    cells = re.findall(r'<td class="audit-changes">(.*?)</td>', page, flags=re.S)
    return [line for cell in cells for line in re.findall(r"<div>(.*?)</div>", cell, flags=re.S)]


def test_a_customers_history_shows_verbose_names_and_values_not_internals(client, dispatcher, branch_a):
    client.force_login(dispatcher)
    response = client.post(reverse("customers:customer_create"), {"name": "银川市交通局", "branch": branch_a.pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    customer = Customer.objects.get(name="银川市交通局")
    ProjectFactory(customer=customer, name="智慧交通一期")
    ProjectFactory(customer=customer, name="智慧交通二期")
    IntegrationKey.objects.create(name="监控平台", customer=customer, prefix="ak_12345678", key_hash="0" * 64,
                                  created_by=dispatcher)
    UserFactory(customer=customer, full_name="王工")

    edit = reverse("customers:customer_update", args=[customer.pk])
    version = client.get(edit).context["edit_version"]
    response = client.post(edit, {"name": customer.name, "branch": branch_a.pk, "phone": "0951-6012345",
                                  "address": "", "short_name": "", "notes": "", "edit_version": version})
    assert response.status_code == 302, response.content.decode()[:2000]

    page = client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    lines = history_lines(page)
    with translation.override("zh-hans"):
        phone, branch = (str(Customer._meta.get_field(name).verbose_name) for name in ("phone", "branch"))
    assert f"{phone}: — → 0951-6012345" in lines  # the edit, by the field's verbose name, newest first
    assert lines[0] == f"{phone}: — → 0951-6012345"
    assert f"{branch}: — → {branch_a.name}" in lines  # the creation names the branch, not its key
    assert not [line for line in lines if INTERNALS.search(line)], lines
    assert len(lines) == 3  # phone; then name and branch when it was created


def test_a_projects_history_shows_the_customers_name_and_a_changed_customer(client, dispatcher, customer_a, branch_a):
    project = ProjectFactory(customer=customer_a, name="天网二期", latitude=None, longitude=None)
    client.force_login(dispatcher)
    edit = reverse("customers:project_update", args=[project.pk])
    version = client.get(edit).context["edit_version"]
    form = {"customer": customer_a.pk, "branch": branch_a.pk, "name": "天网二期工程", "contract_number": project.contract_number,
            "manufacturer_warranty_months": 36, "integrator_warranty_months": 12, "edit_version": version}
    assert client.post(edit, form).status_code == 302

    lines = history_lines(client.get(project.get_absolute_url()).content.decode())
    with translation.override("zh-hans"):
        label = {name: str(Project._meta.get_field(name).verbose_name)
                 for name in ("customer", "name", "manufacturer_warranty_months")}
    assert f"{label['name']}: 天网二期 → 天网二期工程" in lines
    assert f"{label['manufacturer_warranty_months']}: 24 → 36" in lines
    assert f"{label['customer']}: — → {customer_a.name}" in lines
    assert not [line for line in lines if INTERNALS.search(line)], lines
