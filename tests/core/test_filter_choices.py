"""Filter-bar choices: rendered once per worker and scope, never shown across scopes, refreshed on change."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def desk(client, user, **params):
    client.force_login(user)
    return client.get(reverse("service:desk"), params).content.decode()


def test_customer_choices_are_scoped_even_when_cached(client, dispatcher, general_manager, customer_a, customer_b, project_a, project_b):
    assert customer_b.name in desk(client, general_manager)
    page = desk(client, dispatcher)  # branch A: the general manager's cached options must not be reused
    assert customer_a.name in page and customer_b.name not in page


def test_cached_choices_cost_no_query_and_keep_the_selection(client, general_manager, customer_a, customer_b, project_a):
    desk(client, general_manager)
    client.force_login(general_manager)
    client.get(reverse("service:desk"), {"customer": customer_a.pk})  # options and the chosen id's check warm up
    with CaptureQueriesContext(connection) as warm:
        page = client.get(reverse("service:desk"), {"customer": customer_b.pk}).content.decode()
    assert not [q for q in warm.captured_queries if 'FROM "customers_customer"' in q["sql"] and "LIMIT" not in q["sql"]]
    assert f'<option value="{customer_b.pk}" selected>{customer_b.name}</option>' in page
    assert f'<option value="{customer_a.pk}">{customer_a.name}</option>' in page
    assert client.get(reverse("service:desk"), {"customer": 10**9}).status_code == 200  # an unknown id: ignored


def test_a_new_customer_appears_at_once(client, general_manager, customer_a):
    desk(client, general_manager)
    CustomerFactory(name="新客户<测试>")
    assert "新客户&lt;测试&gt;" in desk(client, general_manager)


def test_a_foreign_customer_chosen_in_the_filter_lists_nothing_of_it_even_when_cached(
        client, dispatcher, general_manager, project_a, project_b):
    """Lesson #7: the chosen id is checked against the user's own scope, not against another scope's cached choices."""
    from aftersales.service import verbs

    foreign = verbs.open_request(by=general_manager, project=project_b, priority="general", channel="phone",
                                 title="地铁闸机摄像头离线", description="-")
    client.force_login(general_manager)
    assert foreign.number in client.get(reverse("service:desk"), {"customer": project_b.customer_id}).content.decode()
    client.force_login(dispatcher)  # branch A
    response = client.get(reverse("service:desk"), {"customer": project_b.customer_id})
    assert response.status_code == 200 and foreign.number not in response.content.decode()
    assert "customer" in response.context["filter"].form.errors and response.context["rows"] == []
