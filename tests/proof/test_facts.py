"""Issue 24 §4: the month's facts, against a month computed by hand (tests/proof/conftest.py `october`)."""

import json

import pytest

from aftersales.proof import facts
from aftersales.service.reports import Period


def numbers(*requests):
    return [request.number for request in requests]


def test_the_month_counts_what_was_opened_in_it_in_shanghai_time(october, customer_a, customer_user_a):
    r1, r2, r3, r4, r5 = (october[k] for k in ("r1", "r2", "r3", "r4", "r5"))
    month = facts.build(customer_a, Period.month(2026, 10), customer_user_a)
    figures = month["requests"]["figures"]
    # 23:30 on 31 October is inside; 00:00 on 1 November is the next month
    assert figures["opened"] == {"n": 4, "rows": numbers(r1, r2, r3, r4)}
    assert r5.number not in json.dumps(month, ensure_ascii=False)
    reply = month["requests"]["targets"]["reply"]
    assert reply["met"] == {"n": 1, "rows": numbers(r1)}
    assert reply["missed"] == {"n": 1, "rows": numbers(r2)}
    assert reply["open"] == {"n": 2, "rows": numbers(r3, r4)}
    assert figures["paused"] == {"n": 1, "rows": numbers(r3)}
    assert figures["by_priority"]["serious"] == {"n": 1, "rows": numbers(r3)}
    assert figures["resolved"]["n"] == 0


def test_each_request_row_has_its_promised_and_actual_times_and_pause_reason(october, customer_a, customer_user_a):
    r1, r3, r4 = october["r1"], october["r3"], october["r4"]
    rows = {row["number"]: row for row in facts.build(customer_a, Period.month(2026, 10), customer_user_a)
            ["requests"]["rows"]}
    assert rows[r1.number]["targets"]["reply"]["met_at"] == "2026-10-12 10:05"
    assert rows[r1.number]["targets"]["reply"]["outcome"] == "met"
    assert rows[r1.number]["devices"] and rows[r1.number]["devices"][0]["name"]
    assert rows[r3.number]["pauses"][0]["reason"] == "业主机房停电"
    assert rows[r3.number]["pauses"][0]["started_at"] == "2026-10-14 10:01"
    assert rows[r4.number]["opened_at"] == "2026-10-31 23:30"


def test_the_next_month_holds_the_request_opened_at_midnight_on_the_first(october, customer_a, customer_user_a):
    month = facts.build(customer_a, Period.month(2026, 11), customer_user_a)
    assert month["requests"]["figures"]["opened"] == {"n": 1, "rows": numbers(october["r5"])}


def test_facts_are_json_and_the_same_twice(october, customer_a, customer_user_a):
    first = facts.build(customer_a, Period.month(2026, 10), customer_user_a)
    assert json.loads(json.dumps(first)) == first
    assert facts.build(customer_a, Period.month(2026, 10), customer_user_a) == first


def test_another_customers_contact_cannot_be_the_scope(october, customer_a, customer_user_b, dispatcher):
    with pytest.raises(facts.ScopeMismatch):
        facts.build(customer_a, Period.month(2026, 10), customer_user_b)
    with pytest.raises(facts.ScopeMismatch):  # staff scope is wider than the customer's: refused too
        facts.build(customer_a, Period.month(2026, 10), dispatcher)


def test_a_customer_without_contacts_is_built_with_its_own_scope(october, customer_a):
    month = facts.build(customer_a, Period.month(2026, 10), None)
    assert month["scope"] == {"kind": "customer", "ids": [customer_a.pk], "contact": None}
    assert month["requests"]["figures"]["opened"]["n"] == 4
