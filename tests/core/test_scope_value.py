"""SEC-1: what a user may see is one value, `scope_of(user)`; every cached read of scoped data is keyed by it.

A new scoping rule is added here (a dispatcher of branch A is moved to branch B's requests) after every cache was
warmed under the old rule: the desk queue's and the request page's compiled queries and the filter choices must
follow it on the next read, as `visible()` does."""

import pytest
from django.urls import reverse

from aftersales.core import scoping
from aftersales.core.scoping import BRANCH, CUSTOMER, EVERYTHING, NOTHING, Scope
from aftersales.service import verbs
from aftersales.service.models import Priority, ServiceRequest

from ..conftest import api_as


def open_in(project, by, title):
    return verbs.open_request(by=by, project=project, priority=Priority.GENERAL, channel="phone", title=title,
                              description="…")


def queue_ids(client) -> list[int]:
    response = client.get("/api/requests/queue/")
    assert response.status_code == 200
    return [row["id"] for row in response.json()["results"]]


def test_scope_of_is_one_immutable_value(dispatcher, general_manager, customer_user_a, branch_a, customer_a):
    assert scoping.scope_of(dispatcher) == Scope(BRANCH, (branch_a.pk,))
    assert scoping.scope_of(customer_user_a) == Scope(CUSTOMER, (customer_a.pk,))
    assert scoping.scope_of(general_manager) == Scope(EVERYTHING)
    assert scoping.scope_of(None) == NOTHING
    with pytest.raises(AttributeError):
        scoping.scope_of(dispatcher).kind = EVERYTHING  # frozen: a cache key cannot change under a cache


def test_a_new_scoping_rule_reaches_every_cached_read(client, monkeypatch, frozen_clock, dispatcher, general_manager,
                                                       branch_b, project_a, project_b):
    mine = open_in(project_a, dispatcher, "A 分公司的请求")
    theirs = open_in(project_b, general_manager, "B 分公司的请求")
    api = api_as(dispatcher)
    client.force_login(dispatcher)

    def read_everything():
        return {
            "queue": queue_ids(api),
            "pages": {pk: api.get(f"/api/requests/{pk}/").status_code for pk in (mine.pk, theirs.pk)},
            "desk": client.get(reverse("service:desk")).content.decode(),
            "list": client.get(reverse("service:request_list")).content.decode(),
        }

    before = read_everything()  # warms the compiled queries and the filter choices under the old rule
    assert before["queue"] == [mine.pk] and before["pages"] == {mine.pk: 200, theirs.pk: 404}
    assert mine.number in before["desk"] and theirs.number not in before["desk"]
    assert project_a.customer.name in before["list"] and project_b.customer.name not in before["list"]

    rule = scoping.scope_of

    def moved_to_branch_b(user):  # the new rule
        return Scope(BRANCH, (branch_b.pk,)) if getattr(user, "pk", None) == dispatcher.pk else rule(user)

    monkeypatch.setattr(scoping, "scope_of", moved_to_branch_b)
    after = read_everything()
    assert after["queue"] == [theirs.pk]
    assert after["pages"] == {mine.pk: 404, theirs.pk: 200}
    assert theirs.number in after["desk"] and mine.number not in after["desk"]
    assert project_b.customer.name in after["list"] and project_a.customer.name not in after["list"]
    assert ServiceRequest.objects.count() == 2
