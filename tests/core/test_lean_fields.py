"""core.api.LeanFields: serializers copying their declared fields shallowly validate exactly as DRF's deep copies do."""

import pytest
from rest_framework import serializers

from aftersales.intake.api_alarms import AlarmEventIn
from aftersales.service.api import OpenRequestIn
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db


def deep(serializer_class):
    """The same serializer with DRF's own deep copies of its fields."""
    def get_fields(self):
        return serializers.Serializer.get_fields(self)
    return type(f"Deep{serializer_class.__name__}", (serializer_class,), {"get_fields": get_fields})


def outcome(serializer):
    return (True, dict(serializer.validated_data)) if serializer.is_valid() else (False, serializer.errors)


def test_a_new_request_validates_as_with_deep_copies_for_each_caller(dispatcher, general_manager, project_a, project_b):
    mine, foreign = DeviceFactory(project=project_a), DeviceFactory(project=project_b)
    bodies = [
        {"project": project_a.pk, "priority": "general", "title": "录像丢失", "description": "-", "devices": [mine.pk]},
        {"project": project_b.pk, "priority": "serious", "title": "t", "description": "-", "devices": [foreign.pk]},
        {"project": project_a.pk, "priority": "general", "title": "x" * 201, "description": "", "devices": [foreign.pk]},
        {"project": "abc", "priority": "urgent", "customer_rank": 0, "devices": "1"},
        {},
    ]
    # Alternate callers and bodies so that state left on a shared field by one instance would show in the next.
    for _round in range(2):
        for user in (dispatcher, general_manager):
            for body in bodies:
                context = {"user": user}
                assert outcome(OpenRequestIn(data=body, context=context)) == outcome(deep(OpenRequestIn)(data=body, context=context))
    lean = OpenRequestIn(data=bodies[1], context={"user": dispatcher})
    assert not lean.is_valid() and set(lean.errors) == {"project", "devices"}  # both scoped to the dispatcher's branch
    assert OpenRequestIn(data=bodies[1], context={"user": general_manager}).is_valid()


def test_an_alarm_event_validates_as_with_deep_copies():
    events = [
        {"device": {"serial": "SN1"}, "type": "Video-Loss", "state": "raised", "time": "2026-11-26T10:00:00+08:00"},
        {"device": {"serial": "SN1", "external_id": "x"}, "type": "offline", "state": "raised"},
        {"device": {}, "type": "视频丢失", "state": "up", "time": "2026-11-26T10:00:00"},
        {"device": "SN1", "type": "offline", "state": "cleared", "detail": "d" * 4001},
    ]
    for _round in range(2):
        for event in events:
            assert outcome(AlarmEventIn(data=event)) == outcome(deep(AlarmEventIn)(data=event))
