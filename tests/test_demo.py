"""`make demo` loads its data through the verbs: a desk with work in every state, loaded once."""

from aftersales.demo import data
from aftersales.service.models import ServiceRequest, State, WorkOrder


def test_the_demo_data_loads_once_with_requests_in_many_states(db):
    assert data.load()["created"] is True
    states = set(ServiceRequest.objects.values_list("state", flat=True))
    assert {State.NEW, State.REPLIED, State.EN_ROUTE, State.RESOLVED, State.CLOSED} <= states
    assert WorkOrder.objects.filter(satisfaction=5).exists()
    assert data.load()["created"] is False
