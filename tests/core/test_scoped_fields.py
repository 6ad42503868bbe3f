"""core.api.ScopedPrimaryKeyField keeps its compiled lookup per declaration and scope."""

import pytest
from rest_framework import serializers

from aftersales.assets.models import Device
from aftersales.core.api_base import ScopedPrimaryKeyField
from aftersales.customers.models import Project
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db


def test_scoped_ids_in_two_lists_of_one_serializer_are_checked_against_their_own_querysets(dispatcher, project_a):
    """Two list children (both named "") with different querysets must not share one compiled lookup
    (lessons #7: a foreign or wrong-kind id is refused)."""

    class TwoLists(serializers.Serializer):
        devices = serializers.ListField(child=ScopedPrimaryKeyField(queryset=Device.objects.all()))
        projects = serializers.ListField(child=ScopedPrimaryKeyField(queryset=Project.objects.all()))

    device = DeviceFactory(project=project_a)
    ok = TwoLists(data={"devices": [device.pk], "projects": [project_a.pk]}, context={"user": dispatcher})
    assert ok.is_valid(), ok.errors
    assert ok.validated_data["devices"] == [device] and ok.validated_data["projects"] == [project_a]
    wrong = TwoLists(data={"devices": [device.pk], "projects": [device.pk + 1000]}, context={"user": dispatcher})
    assert not wrong.is_valid() and set(wrong.errors) == {"projects"}
