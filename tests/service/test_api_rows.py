"""The hot request endpoints build their JSON from `.values()` rows; it must equal the documented serializers' output."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from aftersales.service import sweep, verbs
from aftersales.service.api import RequestListOut, RequestOut, request_out
from aftersales.service.models import Priority, ServiceRequest
from tests.conftest import api_as
from tests.factories import DeviceFactory, current_version

pytestmark = pytest.mark.django_db


def as_json(data):
    return json.loads(JSONRenderer().render(data))


@pytest.fixture
def busy_request(frozen_clock, dispatcher, engineer, project_a):
    devices = [DeviceFactory(project=project_a) for _ in range(3)]
    request = verbs.open_request(by=dispatcher, project=project_a, priority=Priority.SERIOUS, channel="phone",
                                 title="主干光纤中断", description="东区全部离线", devices=devices)
    frozen_clock.shift(timedelta(minutes=7, seconds=3, microseconds=120))
    verbs.dispatch(request=request, by=dispatcher, version=current_version(request), engineer=engineer)
    verbs.comment(request=request, by=engineer, text="出发前检查备件")
    frozen_clock.shift(timedelta(hours=2))
    sweep.sweep()  # a miss, escalations: events without an actor
    return request


def test_request_page_body_equals_the_serializer(busy_request):
    expected = as_json(RequestOut(ServiceRequest.objects.get(pk=busy_request.pk)).data)
    assert len(expected["events"]) >= 4 and len(expected["devices"]) == 3 and expected["targets"]
    assert any(event["actor"] is None for event in expected["events"])
    assert as_json(request_out(busy_request.pk)) == expected


def test_queue_and_list_rows_equal_the_serializer(client, busy_request, dispatcher, project_a):
    verbs.open_request(by=dispatcher, project=project_a, priority=Priority.GENERAL, channel="phone",
                       title="客户端无法回放", description="-")
    api = APIClient()
    api.force_authenticate(dispatcher)
    for url in ("/api/requests/queue/", "/api/requests/"):
        rows = api.get(url).json()["results"]
        assert len(rows) == 2
        expected = [as_json(RequestListOut(ServiceRequest.objects.get(pk=row["id"])).data) for row in rows]
        assert rows == expected


def test_request_page_api_costs_the_same_for_few_and_many_events(frozen_clock, busy_request, dispatcher):
    api = APIClient()
    api.force_authenticate(dispatcher)
    url = f"/api/requests/{busy_request.pk}/"

    def queries():
        api.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert api.get(url).status_code == 200
        return len(captured)

    few = queries()
    for n in range(20):
        verbs.comment(request=busy_request, by=dispatcher, text=f"进展 {n}")
    assert queries() == few <= 5


@pytest.mark.parametrize("url", ["/api/requests/queue/", "/api/requests/"])
def test_request_lists_cost_the_same_for_3_and_30_rows(frozen_clock, dispatcher, engineer, project_a, url):
    api = APIClient()
    api.force_authenticate(dispatcher)

    def queries_for(n):
        while ServiceRequest.objects.count() < n:
            created = verbs.open_request(by=dispatcher, project=project_a, priority=Priority.SERIOUS, channel="phone",
                                         title="摄像机离线", description="-")
            if created.pk % 3 == 0:
                verbs.dispatch(request=created, by=dispatcher, version=current_version(created), engineer=engineer)
        api.get(url, {"page_size": 100})
        with CaptureQueriesContext(connection) as captured:
            assert len(api.get(url, {"page_size": 100}).json()["results"]) == n
        return len(captured)

    assert queries_for(3) == queries_for(30) <= 3  # count, page (+ a scoped filter's lookup)


def test_devices_of_a_new_request_are_read_with_one_query_and_checked(dispatcher, project_a, project_b):
    api = APIClient()
    api.force_authenticate(dispatcher)
    mine = [DeviceFactory(project=project_a) for _ in range(3)]
    foreign = DeviceFactory(project=project_b)  # another branch's customer: invisible to this dispatcher
    body = {"project": project_a.pk, "priority": "general", "title": "录像丢失", "description": "-"}
    created = api.post("/api/requests/", {**body, "devices": [d.pk for d in mine]}, format="json")
    assert created.status_code == 201 and sorted(created.json()["devices"]) == sorted(d.pk for d in mine)
    for devices, message in (([mine[0].pk, foreign.pk], str(foreign.pk)), (["abc"], "str"), (mine[0].pk, "int")):
        answer = api.post("/api/requests/", {**body, "devices": devices}, format="json")
        assert answer.status_code == 400 and message in str(answer.json()["fields"]["devices"]), answer.json()
    assert ServiceRequest.objects.count() == 1


def test_the_project_of_a_new_request_is_checked_for_each_callers_scope(dispatcher, general_manager, project_a, project_b):
    """The project's scoped lookup is compiled once per scope (lessons #7): the general manager, who sees every branch,
    compiling it first must not let the dispatcher open a request on another branch's project, nor the reverse."""
    body = {"priority": "general", "title": "录像丢失", "description": "-"}
    gm, desk = api_as(general_manager), api_as(dispatcher)
    assert gm.post("/api/requests/", {**body, "project": project_b.pk}, format="json").status_code == 201
    refused = desk.post("/api/requests/", {**body, "project": project_b.pk}, format="json")
    assert refused.status_code == 400 and str(project_b.pk) in str(refused.json()["fields"]["project"])
    created = desk.post("/api/requests/", {**body, "project": str(project_a.pk)}, format="json")  # an id as text
    assert created.status_code == 201 and created.json()["project"] == project_a.pk
    assert ServiceRequest.objects.get(pk=created.json()["id"]).customer_id == project_a.customer_id
    for project in (10**30, -1, 0, True, "1e3", None):  # too big for a column or not an id
        answer = desk.post("/api/requests/", {**body, "project": project}, format="json")
        assert answer.status_code == 400 and "project" in answer.json()["fields"], (project, answer.json())
    assert ServiceRequest.objects.count() == 2


def test_queue_filters_and_their_errors(frozen_clock, dispatcher, engineer, project_a):
    api = APIClient()
    api.force_authenticate(dispatcher)
    first = verbs.open_request(by=dispatcher, project=project_a, priority=Priority.SERIOUS, channel="phone",
                               title="a", description="-")
    verbs.open_request(by=dispatcher, project=project_a, priority=Priority.GENERAL, channel="phone", title="b",
                       description="-")
    verbs.dispatch(request=first, by=dispatcher, version=current_version(first), engineer=engineer)
    ids = lambda **params: [row["id"] for row in api.get("/api/requests/queue/", params).json()["results"]]  # noqa: E731
    assert len(ids()) == 2
    assert ids(priority="serious") == ids(assignee=engineer.pk) == ids(state="dispatched") == [first.pk]
    assert len(ids(customer=project_a.customer_id, branch=project_a.branch_id)) == 2
    assert ids(branch=project_a.branch_id + 1000) == []
    for params, field in (({"branch": "x"}, "branch"), ({"priority": "urgent"}, "priority"), ({"state": "closed"}, "state"),
                          ({"customer": "9" * 30}, "customer"), ({"assignee": "١"}, "assignee")):  # too big for a key, not ASCII
        answer = api.get("/api/requests/queue/", params)
        assert answer.status_code == 400 and field in answer.json()["fields"], answer.json()
    for pk in ("9" * 30, "١", "0"):  # a request page for an id no row can have is a 404, never a 500
        assert api.get(f"/api/requests/{pk}/").status_code == 404, pk


def test_compiled_queries_return_what_the_orm_returns(busy_request):
    from django.db.models import Q

    from aftersales.service.compiled_queries import CompiledValues
    from aftersales.service.models import TimelineEvent

    def events(pk):
        return TimelineEvent.objects.filter(request=pk).values("id", "kind", "at", "data", "actor__username")

    compiled = CompiledValues(events)
    assert compiled.rows(busy_request.pk) == list(events(busy_request.pk))  # datetimes, JSON, a joined column
    assert compiled.rows(busy_request.pk + 1000) == []
    assert compiled.count(busy_request.pk) == events(busy_request.pk).count() >= 4
    with pytest.raises(TypeError):
        compiled.rows(str(busy_request.pk))  # compiled for an id
    for empty in (lambda pk: events(pk).none(), lambda pk: events(pk)[0:0]):  # a scope that sees nothing, no page
        assert CompiledValues(empty).rows(busy_request.pk) == [] and CompiledValues(empty).count(busy_request.pk) == 0
    with pytest.raises(ValueError, match="stand-in"):
        CompiledValues(lambda pk: TimelineEvent.objects.filter(Q(request=pk) | Q(actor=pk)).values("id")).rows(1)


def test_the_request_page_api_answers_each_scope_with_its_own_rows(busy_request, dispatcher, general_manager,
                                                                   customer_user_a, customer_user_b, project_b):
    foreign = verbs.open_request(by=general_manager, project=project_b, priority=Priority.GENERAL, channel="phone",
                                 title="闸机摄像头离线", description="-")
    url = f"/api/requests/{busy_request.pk}/"
    for user, mine, theirs in ((dispatcher, 200, 404), (customer_user_a, 200, 404), (customer_user_b, 404, 200),
                               (general_manager, 200, 200)):
        api = api_as(user)
        assert api.get(url).status_code == mine, user
        assert api.get(f"/api/requests/{foreign.pk}/").status_code == theirs, user
        assert api.get(url).status_code == mine, user  # the second call runs the compiled query
    assert api_as(dispatcher).get("/api/requests/not-a-number/").status_code == 404


def test_the_compiled_queue_counts_and_pages_as_the_orm_does(frozen_clock, dispatcher, engineer, general_manager,
                                                              customer_user_a, project_a, project_b):
    from aftersales.service import selectors
    from aftersales.service.selectors import CompiledQueue

    for i in range(7):
        request = verbs.open_request(by=dispatcher, project=project_a if i % 3 else project_b,
                                     priority=Priority.SERIOUS if i % 2 else Priority.GENERAL, channel="phone",
                                     title=f"#{i}", description="-")
        if i % 4 == 0:
            verbs.dispatch(request=request, by=dispatcher, version=current_version(request), engineer=engineer)
        frozen_clock.shift(timedelta(minutes=3))
    for user in (dispatcher, general_manager, customer_user_a):
        for lookups in ({}, {"priority": "serious"}, {"priority": "general"}, {"assignee_id": engineer.pk},
                        {"branch_id": project_a.branch_id, "state": "new"}, {"customer_id": project_b.customer_id}):
            expected = selectors.open_requests(user).filter(**lookups).values(*RequestListOut.Meta.fields)
            for _ in range(2):  # compiled on the first call, reused on the second
                compiled = CompiledQueue(user, lookups, fields=RequestListOut.Meta.fields)
                assert compiled.count() == expected.count(), (user, lookups)
                assert compiled[0:2] == list(expected[0:2]) and compiled[2:4] == list(expected[2:4]), (user, lookups)
                requests = selectors.open_requests(user).filter(**lookups)
                for start, stop in ((0, 3), (3, 6), (6, 9), (9, 12)):  # the desk page's rows, the last page empty
                    assert compiled.desk_rows(start, stop) == selectors.queue_rows(requests[start:stop]), (user, lookups)


def test_the_create_answer_is_what_the_request_page_api_reads_back(frozen_clock, dispatcher, project_a, device_a):
    """The create answer is formatted from what the verb wrote, without reading it back: it must equal the GET."""
    api = api_as(dispatcher)
    created = api.post("/api/requests/", {"project": project_a.pk, "priority": "emergency", "title": "监控中心黑屏",
                                          "description": "解码器无输出", "devices": [device_a.pk]}, format="json")
    assert created.status_code == 201
    assert created.json() == api.get(f"/api/requests/{created.json()['id']}/").json()
