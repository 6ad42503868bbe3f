"""core.api_base.ScopedPrimaryKeyField: each id is read through its own declaration's queryset, scoped to the caller;
an id no row can have is a 400 like any unknown id, never a 500."""

import pytest
from rest_framework import serializers

from aftersales.assets.models import Device
from aftersales.core.api_base import ScopedPrimaryKeyField
from aftersales.customers.models import Project
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db


def test_scoped_ids_in_two_lists_of_one_serializer_are_checked_against_their_own_querysets(dispatcher, project_a):
    """Two list children (both named "") with different querysets each check their own (lessons #7: a foreign or
    wrong-kind id is refused)."""

    class TwoLists(serializers.Serializer):
        devices = serializers.ListField(child=ScopedPrimaryKeyField(queryset=Device.objects.all()))
        projects = serializers.ListField(child=ScopedPrimaryKeyField(queryset=Project.objects.all()))

    device = DeviceFactory(project=project_a)
    ok = TwoLists(data={"devices": [device.pk], "projects": [project_a.pk]}, context={"user": dispatcher})
    assert ok.is_valid(), ok.errors
    assert ok.validated_data["devices"] == [device] and ok.validated_data["projects"] == [project_a]
    wrong = TwoLists(data={"devices": [device.pk], "projects": [device.pk + 1000]}, context={"user": dispatcher})
    assert not wrong.is_valid() and set(wrong.errors) == {"projects"}


@pytest.mark.parametrize(("value", "code"), [
    ("9" * 30, "does_not_exist"), (2**63, "does_not_exist"), (-1, "does_not_exist"),
    ("abc", "incorrect_type"), (True, "incorrect_type"), ([1], "incorrect_type"), ({"id": 1}, "incorrect_type"),
])
def test_an_id_no_row_can_have_is_refused_as_unknown_or_of_the_wrong_type(dispatcher, value, code):
    class One(serializers.Serializer):
        project = ScopedPrimaryKeyField(queryset=Project.objects.all())

    data = One(data={"project": value}, context={"user": dispatcher})
    assert not data.is_valid()
    assert data.errors["project"][0].code == code


def test_a_visible_id_is_one_query_and_a_foreign_one_does_not_exist(dispatcher, project_a, project_b,
                                                                      django_assert_num_queries):
    field = ScopedPrimaryKeyField(queryset=Project.objects.all())
    field.bind("project", serializers.Serializer(context={"user": dispatcher}))
    assert dispatcher.has_perm("accounts.see_all_branches") is False  # the scope's permissions, read once
    with django_assert_num_queries(1):
        assert field.to_internal_value(str(project_a.pk)) == project_a
    with pytest.raises(serializers.ValidationError) as refused:
        field.to_internal_value(project_b.pk)
    assert refused.value.detail[0].code == "does_not_exist"
