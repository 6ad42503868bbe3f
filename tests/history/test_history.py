"""LOG-1: the customer's history — every kind appears, nothing of another customer; the project's; filters; keyset
pages without gap or duplicate; a bad cursor is a 400; what a customer's contact sees; a fixed number of queries;
the exports; the API."""

import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from aftersales.changes.models import ChangeNotice
from aftersales.documents import services as documents
from aftersales.documents.models import DocumentVersion
from aftersales.history import sources, timeline
from aftersales.inspections.models import Finding, InspectionRound
from aftersales.journal import services as journal
from aftersales.journal.models import LogEntry
from aftersales.proposals.models import HazardReport, Proposal
from aftersales.repairs.models import Loan, RepairCase
from aftersales.service import verbs
from aftersales.service.models import IncidentReport, ServiceRequest, WorkOrder
from aftersales.training.models import TrainingSession
from aftersales.visits.models import ReturnVisit, Survey
from tests.conftest import api_as
from tests.factories import ProjectFactory
from tests.test_url_walk import world  # noqa: F401  (the fixture: one row of every model for A and for B)

MODEL_OF = {"request": ServiceRequest, "work_order": WorkOrder, "incident_report": IncidentReport,
            "repair": RepairCase, "loan": Loan, "round": InspectionRound, "finding": Finding,
            "visit": ReturnVisit, "survey": Survey, "training": TrainingSession,
            # issue 25: the daily logs' entries, the documents' versions, change notices, hidden-danger reports, proposals
            "log_entry": LogEntry, "document": DocumentVersion, "change": ChangeNotice, "hazard": HazardReport,
            "proposal": Proposal}


def add_finding(round_):
    """A failed item of a round (what record_answer writes when an answer fails), directly: the walk's answers pass."""
    answer = round_.checks.get().answers.get()
    check = answer.device_check
    now = timezone.now()
    return Finding.objects.create(round=round_, customer_id=round_.customer_id, branch_id=round_.branch_id,
                                  device_check=check, device=check.device, item=answer.item, answer=answer,
                                  found_at=now, received_at=now)


@pytest.fixture
def full_world(world):  # noqa: F811
    world[Finding] = tuple(add_finding(round_) for round_ in world[InspectionRound])
    return world


def keys(page):
    return {(entry.kind.slug, entry.id) for entry in page.entries}


def request_of(project, by, title="录像丢失"):
    return verbs.open_request(by=by, project=project, priority="general", channel="portal", title=title,
                              description="三号 NVR")


def test_every_kind_is_registered_with_a_model():
    assert set(sources.KINDS) == set(MODEL_OF)


def test_customer_history_lists_every_kind_and_nothing_of_another_customer(full_world, admin_user, customer_a,
                                                                           customer_b):
    page = timeline.page(admin_user, customer=customer_a.pk, size=timeline.MAX_SIZE)
    seen = keys(page)
    assert {slug for slug, _ in seen} == set(sources.KINDS)
    for slug, model in MODEL_OF.items():
        row_a, row_b = full_world[model]
        assert (slug, row_a.pk) in seen, slug
        assert (slug, row_b.pk) not in seen, slug
        ids = [pk for kind, pk in seen if kind == slug]
        lookup = sources.KINDS[slug].customer  # every id listed is customer A's, read independently of the page
        assert set(model.objects.filter(pk__in=ids).values_list(lookup, flat=True)) == {customer_a.pk}, slug
    request = full_world[ServiceRequest][0]
    line = next(e for e in page.entries if e.kind.slug == "request" and e.id == request.pk)
    assert line.title == f"{request.number} {request.title}" and line.url == request.get_absolute_url()
    assert {event["kind"] for event in line.events} >= {"created", "replied"}
    assert page.next_cursor is None


def test_project_history_lists_only_that_projects_rows(full_world, admin_user, project_a, customer_user_a):
    other = ProjectFactory(customer=project_a.customer, branch=project_a.branch, name="第二期")
    elsewhere = request_of(other, customer_user_a, title="另一项目")
    of_project = keys(timeline.page(admin_user, project=project_a.pk, size=timeline.MAX_SIZE))
    of_customer = keys(timeline.page(admin_user, customer=project_a.customer_id, size=timeline.MAX_SIZE))
    assert ("request", elsewhere.pk) in of_customer and ("request", elsewhere.pk) not in of_project
    assert {slug for slug, _ in of_project} == set(sources.KINDS)
    assert of_project == of_customer - {("request", elsewhere.pk)}
    with_customer = timeline.page(admin_user, project=project_a.pk, customer=project_a.customer_id, size=200)
    assert keys(with_customer) == of_project  # the pages add the project's customer: the (customer, time) indexes


def test_kind_and_period_filters(full_world, admin_user, customer_a):
    loans = timeline.page(admin_user, customer=customer_a.pk, kinds=["loan"])
    assert keys(loans) == {("loan", full_world[Loan][0].pk)}
    request = full_world[ServiceRequest][0]
    ServiceRequest.objects.filter(pk=request.pk).update(created_at=timezone.now() - timedelta(days=400))
    now = timezone.now()
    recent = keys(timeline.page(admin_user, customer=customer_a.pk, start=now - timedelta(days=30), size=200))
    old = keys(timeline.page(admin_user, customer=customer_a.pk, end=now - timedelta(days=300), size=200))
    assert ("request", request.pk) in old and ("request", request.pk) not in recent
    assert old == {("request", request.pk)}


def test_rounds_visits_and_surveys_stand_at_the_time_they_took_place(full_world, admin_user, customer_a):
    """A round is planned months ahead (INS-1): it belongs in the history when it was done, not when planned; a visit
    when it took place, a survey when it was answered."""
    done = timezone.now() - timedelta(days=200)
    round_ = next(r for r in full_world[InspectionRound] if r.customer_id == customer_a.pk)
    visit = next(v for v in full_world[ReturnVisit] if v.customer_id == customer_a.pk)
    survey = next(s for s in full_world[Survey] if s.customer_id == customer_a.pk)
    InspectionRound.objects.filter(pk=round_.pk).update(completed_at=done)
    ReturnVisit.objects.filter(pk=visit.pk).update(visited_at=done - timedelta(days=1))
    Survey.objects.filter(pk=survey.pk).update(answered_at=done - timedelta(days=2))
    at = {(entry.kind.slug, entry.id): entry.at
          for entry in timeline.page(admin_user, customer=customer_a.pk, size=timeline.MAX_SIZE).entries}
    assert at[("round", round_.pk)] == done
    assert at[("visit", visit.pk)] == done - timedelta(days=1)
    assert at[("survey", survey.pk)] == done - timedelta(days=2)
    older = timeline.page(admin_user, customer=customer_a.pk, start=done - timedelta(days=3),
                          end=done + timedelta(seconds=1), size=timeline.MAX_SIZE)
    assert {("round", round_.pk), ("visit", visit.pk), ("survey", survey.pk)} <= keys(older)


def test_a_request_folds_its_first_events_and_says_how_many_more(client, admin_user, project_a, customer_user_a):
    from aftersales.service.models import TimelineEvent

    busy, quiet = request_of(project_a, customer_user_a, "录像丢失"), request_of(project_a, customer_user_a, "黑屏")
    start = timezone.now()
    TimelineEvent.objects.bulk_create(TimelineEvent(request=busy, kind="comment", at=start + timedelta(minutes=i),
                                                    actor=admin_user, text=f"第{i}次跟进") for i in range(30))
    entries = {entry.id: entry for entry in timeline.page(admin_user, project=project_a.pk).entries
               if entry.kind.slug == "request"}
    shown, total = entries[busy.pk].events, TimelineEvent.objects.filter(request=busy).count()
    assert len(shown) == timeline.EVENTS_SHOWN and entries[busy.pk].more_events == total - timeline.EVENTS_SHOWN
    assert [event["at"] for event in shown] == sorted(event["at"] for event in shown)  # the first ones, in order
    assert entries[quiet.pk].more_events == 0 and entries[quiet.pk].events
    client.force_login(admin_user)
    page = client.get(reverse("history:project", args=[project_a.pk])).content.decode()
    assert f"另有 {total - timeline.EVENTS_SHOWN} 条，见请求页面" in page and busy.get_absolute_url() in page


def test_keyset_pages_have_no_gap_and_no_duplicate_at_equal_times(admin_user, project_a, customer_user_a):
    opened = [request_of(project_a, customer_user_a, title=f"故障 {n}") for n in range(7)]
    same = timezone.now() - timedelta(hours=1)
    ServiceRequest.objects.filter(pk__in=[r.pk for r in opened[:5]]).update(created_at=same)
    everything = timeline.page(admin_user, customer=project_a.customer_id, size=200).entries
    walked, cursor = [], None
    while True:
        page = timeline.page(admin_user, customer=project_a.customer_id, size=2, cursor=cursor)
        walked += page.entries
        cursor = page.next_cursor
        if not cursor:
            break
    assert [e.key for e in walked] == [e.key for e in everything]
    assert len({e.key for e in walked}) == len(walked) >= 7
    assert [e.at for e in walked] == sorted((e.at for e in walked), reverse=True)
    exported = timeline.all_entries(admin_user, customer=project_a.customer_id, chunk=3)  # the exports' chunks
    assert [e.key for e in exported] == [e.key for e in everything]


def test_bad_cursor_is_a_400_on_the_page_and_in_the_api(client, admin_user, customer_a):
    client.force_login(admin_user)
    url = reverse("history:customer", args=[customer_a.pk])
    for bad in ("nonsense", "eyJ4IjoxfQ:abc", timeline.encode_cursor((timezone.now(), "request", 1)) + "x"):
        assert client.get(url, {"cursor": bad}).status_code == 400
        response = api_as(admin_user).get("/api/history/", {"customer": customer_a.pk, "cursor": bad})
        assert (response.status_code, response.json()["code"]) == (400, "bad_cursor")
    response = api_as(admin_user).get("/api/history/", {"customer": customer_a.pk, "kind": "nothing"})
    assert (response.status_code, response.json()["code"], list(response.json()["fields"])) == (400, "invalid", ["kind"])
    response = api_as(admin_user).get("/api/history/", {})
    assert response.status_code == 400 and "customer" in response.json()["fields"]


def test_customer_contact_sees_only_customer_visible_rows(client, full_world, admin_user, customer_user_a, engineer,
                                                          customer_a, customer_b, project_a):
    request = request_of(project_a, customer_user_a, title="草稿报告")
    draft = verbs.save_incident_report(request=request, by=admin_user, version=None, cause="电源", impact="中断",
                                       timeline="09:00", fix="更换", prevention="巡检")
    day = journal.start_day(by=engineer, day=timezone.localdate() - timedelta(days=1))
    internal_entry = journal.add_entry(log=day, by=engineer, version=day.version, project=project_a, what="内部备注",
                                       minutes=30, visible_to_customer=False)
    internal_document = documents.create_document(
        by=admin_user, project=project_a, title="内部网络规划", kind="network", visibility="internal",
        upload=ContentFile("核心交换机".encode(), name="网络.md")).versions.get()
    staff = timeline.page(admin_user, customer=customer_a.pk, size=200)
    contact = timeline.page(customer_user_a, customer=customer_a.pk, size=200)
    hidden = {("incident_report", draft.pk), ("log_entry", internal_entry.pk), ("document", internal_document.pk)}
    assert hidden <= keys(staff) and not hidden & keys(contact)
    shown = {("log_entry", full_world[LogEntry][0].pk), ("document", full_world[DocumentVersion][0].pk)}
    assert shown <= keys(contact)  # the world's entry and document of A are the customer's to see

    def steps(page):
        line = next(e for e in page.entries if e.kind.slug == "request" and e.id == request.pk)
        return [event["kind"] for event in line.events]
    assert "incident_report" in steps(staff) and "incident_report" not in steps(contact)
    assert keys(contact) == keys(staff) - hidden
    client.force_login(customer_user_a)
    assert client.get(reverse("history:customer", args=[customer_b.pk])).status_code == 404
    assert client.get(reverse("history:project", args=[full_world[ServiceRequest][1].project_id])).status_code == 404
    assert client.get(reverse("history:home")).url == reverse("history:customer", args=[customer_a.pk])
    page = client.get(reverse("history:customer", args=[customer_a.pk]))
    assert page.status_code == 200 and "草稿报告" in page.content.decode()


@pytest.mark.parametrize("n", [2, 12])
def test_a_page_costs_the_same_queries_whatever_the_history(n, client, admin_user, project_a, customer_user_a,
                                                            django_assert_max_num_queries):
    for k in range(n):
        request_of(project_a, customer_user_a, title=f"故障 {k}")
    client.force_login(admin_user)
    # session, user, the role's permissions, the project; one per kind (10); the page's request events (1)
    with django_assert_max_num_queries(4 + len(sources.KINDS) + 1):
        response = client.get(reverse("history:project", args=[project_a.pk]))
    assert response.status_code == 200 and response.content.decode().count('class="list-group-item history-entry"') == n


def test_exports_cover_the_whole_filtered_history(client, full_world, admin_user, customer_a):
    client.force_login(admin_user)
    url = reverse("history:customer", args=[customer_a.pk])
    response = client.get(url, {"export": "csv", "kind": ["request", "loan"]})
    text = b"".join(response.streaming_content).decode("utf-8")
    request, loan = full_world[ServiceRequest][0], full_world[Loan][0]
    assert text.startswith("\ufeff")
    assert request.number in text and loan.unit_serial in text
    assert full_world[ServiceRequest][1].number not in text
    assert len(text.strip().splitlines()) == 1 + 2
    response = client.get(url, {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    listed = timeline.page(admin_user, customer=customer_a.pk, size=200).entries
    assert len(rows) == 1 + len(listed) and {row[2] for row in rows[1:]} == {e.title for e in listed}


def test_api_pages_with_next_links(full_world, admin_user, customer_a, customer_user_b, project_a):
    api = api_as(admin_user)
    first = api.get("/api/history/", {"customer": customer_a.pk, "size": 3}).json()
    assert len(first["results"]) == 3 and first["next"]
    second = api.get(first["next"]).json()
    assert not {(r["kind"], r["id"]) for r in first["results"]} & {(r["kind"], r["id"]) for r in second["results"]}
    assert api.get("/api/history/", {"project": project_a.pk, "kind": ["loan"]}).json()["results"][0]["kind"] == "loan"
    assert api_as(customer_user_b).get("/api/history/", {"customer": customer_a.pk}).status_code == 404


def test_staff_choose_in_the_customer_list_and_pages_link_to_the_history(client, dispatcher, customer_a, project_a):
    client.force_login(dispatcher)
    assert client.get(reverse("history:home")).url == reverse("customers:customer_list")
    assert reverse("history:customer", args=[customer_a.pk]) in client.get(customer_a.get_absolute_url()).content.decode()
    assert reverse("history:project", args=[project_a.pk]) in client.get(project_a.get_absolute_url()).content.decode()
