"""The endpoint column is indexed by outbox_endpoint_recent where it is set; the index of all its NULLs went.

Dropped by name (the same on SQLite and PostgreSQL): AlterField would rebuild the whole table on SQLite only to
leave out an index."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("notify", "0003_outbox_dedupe_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="outboxmessage",
                    name="endpoint",
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE,
                                            related_name="messages", to="notify.webhookendpoint", verbose_name="webhook endpoint"),
                ),
            ],
            database_operations=[
                migrations.RunSQL('DROP INDEX IF EXISTS "notify_outboxmessage_endpoint_id_fc39a27f"',
                                  reverse_sql='CREATE INDEX "notify_outboxmessage_endpoint_id_fc39a27f" '
                                              'ON "notify_outboxmessage" ("endpoint_id")'),
            ],
        ),
    ]
