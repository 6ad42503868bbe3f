"""No single-column index where a composite index starts with the column (srq_queue, srq_customer_created,
srq_assignee_state, event_request_at): each index is one more write per new request or timeline line.

Dropped by name (the same on SQLite and PostgreSQL): AlterField would rebuild the whole tables on SQLite (a million
requests, five million timeline lines) only to leave out an index."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DROPPED = [  # index, table, column
    ("service_servicerequest_assignee_id_7237928a", "service_servicerequest", "assignee_id"),
    ("service_servicerequest_branch_id_e95cfd11", "service_servicerequest", "branch_id"),
    ("service_servicerequest_customer_id_42ed3b6f", "service_servicerequest", "customer_id"),
    ("service_timelineevent_request_id_47f013d9", "service_timelineevent", "request_id"),
]


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_initial"),
        ("customers", "0001_initial"),
        ("service", "0005_order_by_request_column"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="servicerequest",
                    name="assignee",
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT,
                                            related_name="assigned_requests", to=settings.AUTH_USER_MODEL, verbose_name="engineer"),
                ),
                migrations.AlterField(
                    model_name="servicerequest",
                    name="branch",
                    field=models.ForeignKey(db_index=False, editable=False, on_delete=django.db.models.deletion.PROTECT,
                                            related_name="requests", to="accounts.branch"),
                ),
                migrations.AlterField(
                    model_name="servicerequest",
                    name="customer",
                    field=models.ForeignKey(db_index=False, editable=False, on_delete=django.db.models.deletion.PROTECT,
                                            related_name="requests", to="customers.customer"),
                ),
                migrations.AlterField(
                    model_name="timelineevent",
                    name="request",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="events",
                                            to="service.servicerequest"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(f'DROP INDEX IF EXISTS "{index}"', reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("{column}")')
                for index, table, column in DROPPED
            ],
        ),
    ]
