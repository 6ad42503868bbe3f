"""§4: an overdue spare unit and an overdue RMA are told to the desk (a loan to the customer's contacts too) on the
first day overdue and every week after, once per (row, due date, week) however often and wherever the job runs; a
new due date brings its own reminders."""

from datetime import date, timedelta

from aftersales.notify.models import OutboxMessage
from aftersales.repairs import reminders, services

from ..factories import current_version
from .conftest import take

TODAY = date(2026, 11, 26)  # the frozen clock's day


def sent(event):
    return sorted(set(OutboxMessage.objects.filter(event=event).values_list("dedupe_key", "recipient_user__username")))


def test_a_loan_overdue_is_told_to_the_desk_and_the_customer_once_a_week(frozen_clock, case_a, dispatcher,
                                                                          customer_user_a):
    loan = services.lend_unit(case=case_a, by=dispatcher, version=current_version(case_a), unit_serial="SP-9",
                              unit_model="DS-2CD", due_back_on=TODAY)
    assert reminders.send_overdue_reminders(TODAY) == 0  # due today is not overdue
    frozen_clock.shift(timedelta(days=1))
    reminders.send_overdue_reminders(TODAY + timedelta(days=1))
    reminders.send_overdue_reminders(TODAY + timedelta(days=3))  # the same week overdue: nothing new
    first = f"loan-overdue-{loan.pk}-{TODAY}-0"
    assert {(key, user) for key, user in sent("loan_overdue")} >= {(first, "dispatcher"), (first, "cust_a")}
    assert {key for key, _user in sent("loan_overdue")} == {first}
    reminders.send_overdue_reminders(TODAY + timedelta(days=8))
    assert {key for key, _user in sent("loan_overdue")} == {first, f"loan-overdue-{loan.pk}-{TODAY}-1"}
    services.return_loan(loan=loan, by=dispatcher, version=current_version(loan))
    assert reminders.send_overdue_reminders(TODAY + timedelta(days=15)) == 0


def test_an_rma_past_its_expected_day_is_told_to_the_desk_and_a_corrected_day_rearms_it(frozen_clock, case_a,
                                                                                        dispatcher):
    case = take(case_a, "send_to_vendor", dispatcher, expected_back_on=TODAY + timedelta(days=10))
    rma = case.rmas.get()
    reminders.send_overdue_reminders(TODAY + timedelta(days=11))
    assert {key for key, _user in sent("rma_overdue")} == {f"rma-overdue-{rma.pk}-{rma.expected_back_on}-0"}
    assert {user for _key, user in sent("rma_overdue")} == {"dispatcher"}  # not the customer
    rma.expected_back_on = TODAY + timedelta(days=20)  # the manufacturer gave a new date
    rma.save()
    assert reminders.send_overdue_reminders(TODAY + timedelta(days=12)) == 0
    reminders.send_overdue_reminders(TODAY + timedelta(days=21))
    assert len({key for key, _user in sent("rma_overdue")}) == 2
