from datetime import date

import factory
from django.contrib.auth.models import Group

from aftersales.accounts.models import Branch, OnCallShift, Position, Specialty, User
from aftersales.assets.models import Device, DeviceCategory, Manufacturer
from aftersales.customers.models import Customer, Milestone, MilestoneKind, Project


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"分公司{n}")
    code = factory.Sequence(lambda n: f"branch-{n}")
    latitude = 38.487193
    longitude = 106.230909


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.django.Password("pw-12345678")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class StaffFactory(UserFactory):
    branch = factory.SubFactory(BranchFactory)
    position = Position.ENGINEER
    specialty = Specialty.COMPUTING


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"客户{n}")
    branch = factory.SubFactory(BranchFactory)


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    customer = factory.SubFactory(CustomerFactory)
    branch = factory.SelfAttribute("customer.branch")
    name = factory.Sequence(lambda n: f"项目{n}")
    contract_number = factory.Sequence(lambda n: f"HT-2024-{n:04d}")
    latitude = 38.5
    longitude = 106.3


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    project = factory.SubFactory(ProjectFactory)
    kind = MilestoneKind.ACCEPTANCE
    contract_deadline = date(2024, 6, 30)


class DeviceCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeviceCategory
        django_get_or_create = ("code",)

    name = "摄像机"
    code = "camera"


class ManufacturerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Manufacturer
        django_get_or_create = ("name",)

    name = "海康威视"


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    project = factory.SubFactory(ProjectFactory)
    category = factory.SubFactory(DeviceCategoryFactory)
    manufacturer = factory.SubFactory(ManufacturerFactory)
    name = factory.Sequence(lambda n: f"摄像机{n}")
    model = "DS-2CD3T46WDV3"
    serial_number = factory.Sequence(lambda n: f"SN{n:08d}")
    location = "大门"


class OnCallShiftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OnCallShift

    user = factory.SubFactory(StaffFactory)
    branch = factory.SelfAttribute("user.branch")
    specialty = Specialty.COMPUTING
    weekday = None
    valid_from = date(2024, 1, 1)


def current_version(obj) -> int:
    """The row's version now, as a user who just loaded its page would have seen it."""
    return type(obj).objects.values_list("version", flat=True).get(pk=obj.pk)
