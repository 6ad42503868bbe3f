"""SQLite: a waiting writer tries BEGIN again every millisecond (core/sqlite_writers.py), through Django's execute
wrappers, and still gives up after the connection's timeout."""

import pytest
from django.db import OperationalError, connection, transaction

from aftersales.core.sqlite_writers import STEP_MS, begin_in_short_steps


class Cursor:
    def __init__(self):
        self.pragmas = []

    def execute(self, sql):
        self.pragmas.append(sql)


class Db:
    settings_dict = {"OPTIONS": {"timeout": 0.2}}


def locked_then_free(times: int):
    calls = []

    def execute(sql, params, many, context):
        calls.append(sql)
        if len(calls) <= times:
            raise OperationalError("database is locked")
        return "begun"

    return execute, calls


def test_a_waiting_begin_is_tried_again_in_short_steps_and_the_timeout_is_restored():
    execute, calls = locked_then_free(3)
    cursor = Cursor()
    assert begin_in_short_steps(execute, "BEGIN IMMEDIATE", None, False, {"connection": Db(), "cursor": cursor}) == "begun"
    assert len(calls) == 4
    assert cursor.pragmas == [f"PRAGMA busy_timeout = {STEP_MS}", "PRAGMA busy_timeout = 200"]


def test_a_writer_still_gives_up_after_the_timeout():
    execute, calls = locked_then_free(10**9)
    cursor = Cursor()
    with pytest.raises(OperationalError, match="locked"):
        begin_in_short_steps(execute, "BEGIN IMMEDIATE", None, False, {"connection": Db(), "cursor": cursor})
    assert len(calls) > 1 and cursor.pragmas[-1] == "PRAGMA busy_timeout = 200"


def test_other_statements_and_errors_pass_through():
    execute, calls = locked_then_free(1)
    with pytest.raises(OperationalError):  # not a BEGIN: no retry
        begin_in_short_steps(execute, "INSERT INTO t VALUES (1)", None, False, {"connection": Db(), "cursor": Cursor()})
    assert calls == ["INSERT INTO t VALUES (1)"]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's BEGIN")
@pytest.mark.django_db(transaction=True)
def test_every_transaction_begins_through_the_wrapper():
    seen = []

    def spy(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy), connection.execute_wrapper(begin_in_short_steps), transaction.atomic():
        connection.cursor().execute("SELECT 1")
    assert "BEGIN IMMEDIATE" in seen and "PRAGMA busy_timeout = 1" in seen, seen
