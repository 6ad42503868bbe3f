"""CUS-4: reminders 90, 30 and 7 days before a period of coverage ends, each (period, offset) exactly once, to the
branch's desk and department manager and the customer's contacts, through the outbox. A renewal is a new period and
brings its own: the tacit renewal GLPI gets wrong (glpi-project/glpi #23084: the notice of a tacitly renewed contract
computed from the initial end date; #4571: a sent alert never re-armed)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from aftersales.accounts import roles
from aftersales.accounts.models import Position
from aftersales.contracts import reminders, services, tasks
from aftersales.contracts.models import CoverageReminder, Renewal
from aftersales.notify.models import OutboxMessage

from ..concurrency import database_for_threads, in_threads
from ..factories import DeviceFactory, ProjectFactory, StaffFactory
from .conftest import make_contract

SH = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SH)


def run(day: date, hour: int = 9) -> int:
    """The periodic job as the worker runs it, on `day`."""
    with time_machine.travel(at(day, hour), tick=False):
        return tasks.coverage_daily.call_local()["reminders"]


def fired():
    """(period start or device, kind, end, offset, local day fired), in the order fired."""
    return [(r.period.starts_on if r.period else r.device_id, r.kind, r.ends_on, r.offset,
             r.fired_at.astimezone(SH).date())
            for r in CoverageReminder.objects.select_related("period").order_by("fired_at", "pk")]


def inbox(user, event="coverage_ending"):
    return list(OutboxMessage.objects.filter(recipient_user=user, channel="inapp", event=event).order_by("pk"))


def test_a_tacitly_renewed_contract_is_reminded_from_the_renewed_end_each_reminder_once(
        project_a, dispatcher, manager, customer_user_a):
    """GLPI #23084's contract: ends 2025-08-28, renews tacitly for 12 months, two months' notice. The daily job runs
    every day (twice on some days) from May 2025 to September 2026."""
    contract = make_contract(project_a, dispatcher, number="HT-23084", starts_on=date(2024, 8, 29),
                             ends_on=date(2025, 8, 28), renewal=Renewal.TACIT, notice_days=61)
    day = date(2025, 5, 1)
    while day <= date(2026, 9, 30):
        run(day)
        if day.day == 1:
            assert run(day, hour=15) == 0  # a second run the same day: nothing again
        day += timedelta(days=1)

    assert list(contract.periods.order_by("starts_on").values_list("starts_on", "ends_on")) == [
        (date(2024, 8, 29), date(2025, 8, 28)), (date(2025, 8, 29), date(2026, 8, 28)),
        (date(2026, 8, 29), date(2027, 8, 28))]
    assert fired() == [
        (date(2024, 8, 29), "contract", date(2025, 8, 28), 90, date(2025, 5, 30)),
        (date(2024, 8, 29), "contract", date(2025, 8, 28), 30, date(2025, 7, 29)),
        (date(2024, 8, 29), "contract", date(2025, 8, 28), 7, date(2025, 8, 21)),
        # the renewal's own, from ITS end: not from 2025-08-28
        (date(2025, 8, 29), "contract", date(2026, 8, 28), 90, date(2026, 5, 30)),
        (date(2025, 8, 29), "contract", date(2026, 8, 28), 30, date(2026, 7, 29)),
        (date(2025, 8, 29), "contract", date(2026, 8, 28), 7, date(2026, 8, 21)),
    ]
    for person in (dispatcher, manager, customer_user_a):
        assert len(inbox(person)) == 6, person
    renewal_notice = inbox(customer_user_a)[3]
    assert "2026-08-28" in renewal_notice.subject and "HT-23084" in renewal_notice.subject
    assert "2026-06-28" in renewal_notice.body  # notice by: 61 days before the renewed end
    assert "2025-06-28" not in renewal_notice.body
    assert "2026-08-29" in renewal_notice.body  # when it renews next


def test_a_sent_reminder_is_not_sent_again_but_the_renewals_are(contract_a, dispatcher, frozen_clock):
    frozen_clock.move_to(at(date(2026, 12, 25)))
    assert reminders.send_due_reminders() == 1  # 6 days left: the 7-day one
    assert reminders.send_due_reminders() == 0
    services.renew_due_tacit(today=date(2027, 1, 1))
    frozen_clock.move_to(at(date(2027, 10, 2)))
    assert reminders.send_due_reminders() == 1  # the renewal's 90-day one
    assert [(f[2], f[3]) for f in fired()] == [(date(2026, 12, 31), 7), (date(2027, 12, 31), 90)]
    assert len(inbox(dispatcher)) == 2


def test_a_period_first_seen_20_days_before_its_end_gets_only_the_30_day_reminder(contract_a, frozen_clock):
    frozen_clock.move_to(at(date(2026, 12, 11)))
    assert reminders.send_due_reminders() == 1
    frozen_clock.move_to(at(date(2026, 12, 26)))
    assert reminders.send_due_reminders() == 1
    assert [f[3] for f in fired()] == [30, 7]


def test_a_period_renewed_ahead_needs_no_more_reminders_and_a_corrected_end_re_arms_them(contract_a, dispatcher,
                                                                                          frozen_clock):
    frozen_clock.move_to(at(date(2026, 12, 1)))
    assert reminders.send_due_reminders() == 1  # 30 days
    first = contract_a.periods.get()
    services.correct_period(period=first, by=dispatcher, version=first.version, starts_on=first.starts_on,
                            ends_on=date(2026, 12, 20))  # a typo corrected: a new end, its reminders re-armed
    assert reminders.send_due_reminders() == 1
    assert [(f[2], f[3]) for f in fired()] == [(date(2026, 12, 31), 30), (date(2026, 12, 20), 30)]
    contract_a.refresh_from_db()
    services.renew(contract=contract_a, by=dispatcher, version=contract_a.version)
    frozen_clock.move_to(at(date(2026, 12, 15)))
    assert reminders.send_due_reminders() == 0  # renewed: its renewal carries the coverage on


def test_reminders_go_to_the_projects_branch_and_customer_only(contract_a, contract_b, dispatcher, manager,
                                                               customer_user_a, customer_user_b, engineer, branch_b,
                                                               frozen_clock):
    other_desk = StaffFactory(username="sh_desk", branch=branch_b, position=Position.DISPATCHER, role=roles.DISPATCHER)
    frozen_clock.move_to(at(date(2026, 12, 20)))
    assert reminders.send_due_reminders() == 2
    message = inbox(dispatcher)[0]
    assert message.url.endswith(contract_a.get_absolute_url()) and "WB-2026-001" in message.subject
    assert {m.about_id for m in inbox(customer_user_a)} == {str(contract_a.pk)}
    assert {m.about_id for m in inbox(other_desk)} == {m.about_id for m in inbox(customer_user_b)} == {str(contract_b.pk)}
    assert inbox(engineer) == [] and len(inbox(manager)) == 1


# ------------------------------------------------------------------------------------------- warranty periods

@pytest.fixture
def accepted_project(customer_a):
    """Accepted 2024-01-01: manufacturer warranty through 2025-12-31, the integrator's through 2026-12-31."""
    return ProjectFactory(customer=customer_a, accepted_on=date(2024, 1, 1))


def test_warranty_reminders_are_keyed_by_device_kind_end_and_offset_and_a_changed_end_re_arms_them(
        accepted_project, dispatcher, customer_user_a, frozen_clock):
    device = DeviceFactory(project=accepted_project)
    assert device.warranty_end == date(2026, 12, 31)
    frozen_clock.move_to(at(date(2026, 12, 1)))
    assert reminders.send_due_reminders() == 1
    assert reminders.send_due_reminders() == 0
    assert fired() == [(device.pk, "integrator", date(2026, 12, 31), 30, date(2026, 12, 1))]
    device.warranty_end_override = date(2026, 12, 20)  # the warranty turns out to end earlier
    device.save()
    assert reminders.send_due_reminders() == 1
    assert fired()[-1][2:4] == (date(2026, 12, 20), 30)
    notice = inbox(customer_user_a)[-1]
    assert device.name in notice.subject and "2026-12-20" in notice.subject
    assert notice.url.endswith(device.get_absolute_url())


def test_the_devices_of_a_project_that_end_together_are_one_message(accepted_project, dispatcher, customer_user_a,
                                                                     frozen_clock):
    devices = DeviceFactory.create_batch(25, project=accepted_project)
    frozen_clock.move_to(at(date(2026, 12, 1)))
    assert reminders.send_due_reminders() == 25
    [message] = inbox(customer_user_a)
    assert "25" in message.subject and f"?project={accepted_project.pk}" in message.url
    assert devices[0].serial_number in message.body and devices[-1].serial_number not in message.body  # 20 listed
    assert len(inbox(dispatcher)) == 1


def test_the_manufacturer_warranty_ending_before_the_extension_is_for_staff_only(customer_a, dispatcher,
                                                                                customer_user_a, frozen_clock):
    device = DeviceFactory(project=ProjectFactory(customer=customer_a, accepted_on=date(2024, 12, 20)))
    assert (device.manufacturer_warranty_end, device.warranty_end) == (date(2026, 12, 19), date(2027, 12, 19))
    frozen_clock.move_to(at(date(2026, 12, 1)))
    assert reminders.send_due_reminders() == 1
    assert fired() == [(device.pk, "manufacturer", date(2026, 12, 19), 30, date(2026, 12, 1))]
    assert len(inbox(dispatcher)) == 1 and inbox(customer_user_a) == []


def test_a_device_without_a_warranty_end_and_an_ended_warranty_get_nothing(customer_a, device_a, frozen_clock):
    DeviceFactory(project=ProjectFactory(customer=customer_a, accepted_on=date(2020, 1, 1)))
    assert device_a.warranty_end is None
    assert reminders.send_due_reminders() == 0


# ------------------------------------------------------------------------------------------- two workers

@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_reminder_once(customer_a, dispatcher, manager, customer_user_a, tmp_path):
    project = ProjectFactory(customer=customer_a, accepted_on=date(2024, 1, 1))
    DeviceFactory.create_batch(20, project=project)
    for n in range(20):
        make_contract(project, dispatcher, number=f"WB-RACE-{n}", starts_on=date(2026, 1, 1),
                      ends_on=date(2026, 12, 1) + timedelta(days=n))
    now = at(date(2026, 11, 26))
    with database_for_threads(tmp_path):
        sent = in_threads(lambda _i: reminders.send_due_reminders(now=now), 2)
        rows, messages = in_threads(lambda _i: (
            list(CoverageReminder.objects.values_list("period_id", "device_id", "offset")),
            list(OutboxMessage.objects.filter(channel="inapp").values_list("dedupe_key", "recipient_user"))), 1)[0]
    assert sum(sent) == len(rows) == 40  # each claimed by exactly one of the runs
    assert len(set(rows)) == 40
    assert len(messages) == len(set(messages))
    per_person = {user: sum(1 for _key, u in messages if u == user) for user in (dispatcher.pk, customer_user_a.pk)}
    # 20 contract messages and the devices' message(s): one, or one per run when the two runs split the devices
    assert all(21 <= n <= 22 for n in per_person.values()), per_person
