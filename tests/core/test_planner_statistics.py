"""After migrations, SQLite gets planner statistics (an unanalysed new index misleads its planner)."""

import pytest
from django.db import connection

from aftersales.core.apps import refresh_planner_statistics
from aftersales.service.models import Priority
from aftersales.service.verbs import open_request

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's autovacuum analyses by itself")
def test_migrations_leave_statistics_for_every_request_index(dispatcher, project_a):
    open_request(by=dispatcher, project=project_a, priority=Priority.GENERAL, channel="phone", title="t", description="d")
    refresh_planner_statistics(plan=[])  # nothing migrated: nothing to do
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM sqlite_stat1")
    refresh_planner_statistics(plan=[("a migration", False)])
    with connection.cursor() as cursor:
        cursor.execute("SELECT idx FROM sqlite_stat1 WHERE tbl = 'service_servicerequest'")
        indexes = {row[0] for row in cursor.fetchall()}
    assert {"srq_queue", "srq_customer_created"} <= indexes
