"""SEC-1 and the API's promises: scoped lists and choices, 404 for foreign ids, 400 with field messages."""

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from aftersales.assets.models import Device
from aftersales.customers.models import MilestoneKind, Project

from ..conftest import api_as
from ..factories import DeviceFactory, MilestoneFactory, ProjectFactory


def test_customer_user_lists_only_own_projects_and_devices(customer_user_a, device_a, device_b):
    client = api_as(customer_user_a)
    assert [p["id"] for p in client.get("/api/projects/").json()["results"]] == [device_a.project_id]
    assert [d["id"] for d in client.get("/api/devices/").json()["results"]] == [device_a.pk]


def test_foreign_object_by_id_is_404_in_api_and_pages(client, customer_user_a, device_b, project_b):
    api = api_as(customer_user_a)
    assert api.get(f"/api/devices/{device_b.pk}/").status_code == 404
    assert api.get(f"/api/projects/{project_b.pk}/").status_code == 404
    client.force_login(customer_user_a)
    assert client.get(reverse("assets:device_detail", args=[device_b.pk])).status_code == 404
    assert client.get(reverse("customers:project_detail", args=[project_b.pk])).status_code == 404


def test_filter_choices_never_list_another_customer(client, customer_user_a, project_a, project_b):
    client.force_login(customer_user_a)
    page = client.get(reverse("assets:device_list")).content.decode()
    assert project_a.name in page and project_b.name not in page
    assert project_b.customer.name not in page


def test_filtering_by_a_foreign_project_id_is_a_clear_400_in_the_api(customer_user_a, project_b):
    response = api_as(customer_user_a).get(f"/api/devices/?project={project_b.pk}")
    assert response.status_code == 400 and "project" in response.json()["fields"]


def test_branch_staff_see_their_branch_only(engineer, project_a, project_b):
    ids = {p["id"] for p in api_as(engineer).get("/api/projects/").json()["results"]}
    assert ids == {project_a.pk}


def test_general_manager_sees_every_branch(general_manager, project_a, project_b):
    ids = {p["id"] for p in api_as(general_manager).get("/api/projects/").json()["results"]}
    assert ids == {project_a.pk, project_b.pk}


def test_creating_a_project_for_a_foreign_customer_is_a_400_and_writes_nothing(dispatcher, customer_b, branch_a):
    before = Project.objects.count()
    response = api_as(dispatcher).post("/api/projects/", {
        "customer": customer_b.pk, "branch": branch_a.pk, "name": "越权项目", "contract_number": "X-1"})
    assert response.status_code == 400 and "customer" in response.json()["fields"]
    assert Project.objects.count() == before


def test_bad_input_gets_field_messages(dispatcher, project_a):
    response = api_as(dispatcher).post("/api/devices/", {"project": project_a.pk, "name": "", "serial_number": " "})
    body = response.json()
    assert response.status_code == 400
    assert {"name", "serial_number", "category", "manufacturer", "model"} <= set(body["fields"])


def test_duplicate_contract_number_is_a_400(dispatcher, project_a):
    response = api_as(dispatcher).post("/api/projects/", {
        "customer": project_a.customer_id, "branch": project_a.branch_id, "name": "重复", "contract_number": project_a.contract_number})
    assert response.status_code == 400 and "contract_number" in response.json()["fields"]


def test_duplicate_serial_for_the_same_manufacturer_is_a_400(dispatcher, device_a):
    response = api_as(dispatcher).post("/api/devices/", {
        "project": device_a.project_id, "category": device_a.category_id, "manufacturer": device_a.manufacturer_id,
        "name": "另一台", "model": "X", "serial_number": device_a.serial_number})
    assert response.status_code == 400


def test_customer_user_cannot_write(customer_user_a, device_a):
    response = api_as(customer_user_a).patch(f"/api/devices/{device_a.pk}/", {"location": "改了"}, format="json")
    assert response.status_code == 403
    assert Device.objects.get(pk=device_a.pk).location == device_a.location


def test_acceptance_date_starts_the_warranty_of_every_device(dispatcher, project_a):
    device = DeviceFactory(project=project_a)
    assert device.warranty_end is None
    response = api_as(dispatcher).post("/api/milestones/", {
        "project": project_a.pk, "kind": MilestoneKind.ACCEPTANCE, "contract_deadline": "2024-03-01",
        "actual_date": "2024-03-15"})
    assert response.status_code == 201, response.json()
    device.refresh_from_db()
    assert (device.manufacturer_warranty_end, device.warranty_end) == (date(2026, 3, 14), date(2027, 3, 14))


def test_owner_caused_extension_moves_the_deadline_with_its_reason(dispatcher, project_a):
    milestone = MilestoneFactory(project=project_a, kind=MilestoneKind.INSTALLATION, contract_deadline=date(2024, 5, 1))
    response = api_as(dispatcher).post(f"/api/milestones/{milestone.pk}/extend/", {"days": 10, "reason": "业主场地未移交"})
    assert response.status_code == 200
    assert response.json()["extended_deadline"] == "2024-05-11"
    assert response.json()["extensions"][0]["reason"] == "业主场地未移交"
    bad = api_as(dispatcher).post(f"/api/milestones/{milestone.pk}/extend/", {"days": 0, "reason": ""})
    assert bad.status_code == 400 and {"days", "reason"} <= set(bad.json()["fields"])


def test_changes_are_audited_with_actor_and_shown_to_staff_only(client, dispatcher, customer_user_a, device_a):
    api_as(dispatcher).patch(f"/api/devices/{device_a.pk}/", {"location": "二号门"}, format="json")
    entry = LogEntry.objects.get_for_object(device_a).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.actor == dispatcher and entry.changes_dict["location"][1] == "二号门"
    client.force_login(dispatcher)
    assert "二号门" in client.get(reverse("assets:device_detail", args=[device_a.pk])).content.decode()
    client.force_login(customer_user_a)
    page = client.get(reverse("assets:device_detail", args=[device_a.pk])).content.decode()
    assert "audit-changes" not in page


def test_concurrent_edit_of_a_project_keeps_the_first_and_refuses_the_second(client, dispatcher, project_a):
    client.force_login(dispatcher)
    url = reverse("customers:project_update", args=[project_a.pk])
    page = client.get(url)
    version = page.context["edit_version"]
    form = {"customer": project_a.customer_id, "branch": project_a.branch_id, "contract_number": project_a.contract_number,
            "manufacturer_warranty_months": 24, "integrator_warranty_months": 12, "edit_version": version}
    first = client.post(url, {**form, "name": "第一次修改"})
    assert first.status_code == 302
    second = client.post(url, {**form, "name": "第二次修改"})
    assert second.status_code == 200 and second.context["form"].non_field_errors()
    project_a.refresh_from_db()
    assert project_a.name == "第一次修改"


def test_form_errors_are_shown_and_nothing_is_written(client, dispatcher, customer_a):
    client.force_login(dispatcher)
    response = client.post(reverse("customers:project_create"), {
        "customer": customer_a.pk, "branch": customer_a.branch_id, "name": "", "contract_number": "HT-9",
        "service_starts_on": "2025-01-02", "service_ends_on": "2024-01-01",
        "manufacturer_warranty_months": 24, "integrator_warranty_months": 12})
    assert response.status_code == 200
    assert {"name", "service_ends_on"} <= set(response.context["form"].errors)
    assert not Project.objects.filter(contract_number="HT-9").exists()


@pytest.mark.parametrize("n", [3, 30])
def test_device_list_costs_the_same_queries_for_3_or_30_devices(n, client, dispatcher, project_a, django_assert_max_num_queries):
    DeviceFactory.create_batch(n, project=project_a)
    client.force_login(dispatcher)
    # session, user, groups/permissions (2), filter choices (customer, project, category, manufacturer), count, page
    with django_assert_max_num_queries(12):
        assert client.get(reverse("assets:device_list")).status_code == 200


@pytest.mark.parametrize("n", [3, 30])
def test_device_api_costs_the_same_queries_for_3_or_30_devices(n, dispatcher, project_a, django_assert_max_num_queries):
    DeviceFactory.create_batch(n, project=project_a)
    client = api_as(dispatcher)
    with django_assert_max_num_queries(6):  # permissions (2), count, page
        assert client.get("/api/devices/").status_code == 200


@pytest.mark.parametrize("n", [3, 30])
def test_project_list_costs_the_same_queries_for_3_or_30_projects(n, client, dispatcher, customer_a, django_assert_max_num_queries):
    ProjectFactory.create_batch(n, customer=customer_a)
    client.force_login(dispatcher)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("customers:project_list")).status_code == 200


def test_device_page_of_an_accepted_project_shows_its_warranty(client, dispatcher, project_a):
    project_a.accepted_on = date(2025, 1, 10)
    project_a.save()
    device = DeviceFactory(project=project_a)
    client.force_login(dispatcher)
    page = client.get(reverse("assets:device_detail", args=[device.pk]))
    assert page.status_code == 200
    assert "2027-01-09" in page.content.decode()  # 24 + 12 months from acceptance, inclusive


def test_change_history_names_fields_in_words(client, dispatcher, device_a):
    api_as(dispatcher).patch(f"/api/devices/{device_a.pk}/", {"location": "二号门"}, format="json")
    client.force_login(dispatcher)
    page = client.get(reverse("assets:device_detail", args=[device_a.pk])).content.decode()
    assert "安装位置" in page and "<code>location</code>" not in page
