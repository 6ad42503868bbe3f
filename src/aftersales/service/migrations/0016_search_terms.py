"""Issue 21 §8: a request's title and reporter words (service/terms.py), filled in for the requests there are, and
their index (service/term_index.py: FTS5 on SQLite, GIN on PostgreSQL)."""

from django.db import migrations, models

import aftersales.service.term_index

BATCH = 5_000


def fill_terms(apps, schema_editor):
    from aftersales.service.terms import search_terms

    requests = apps.get_model("service", "ServiceRequest").objects.using(schema_editor.connection.alias)
    last = 0
    while batch := list(requests.filter(pk__gt=last).order_by("pk").only("pk", "title", "reporter_name")[:BATCH]):
        for request in batch:
            request.search_terms = search_terms(request.title, request.reporter_name)
        requests.bulk_update(batch, ["search_terms"])
        last = batch[-1].pk


def create_index(apps, schema_editor):
    from aftersales.service.term_index import ensure_index

    ensure_index(schema_editor.connection)


def drop_index(apps, schema_editor):
    from aftersales.service.term_index import drop_index

    drop_index(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("service", "0015_slapolicy_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="servicerequest",
            name="search_terms",
            field=models.TextField(default="", editable=False),
        ),
        migrations.RunPython(fill_terms, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(create_index, drop_index),
        migrations.CreateModel(  # the FTS5 table create_index made on SQLite, for reading it
            name="RequestTermIndex",
            fields=[
                ("rowid", models.BigIntegerField(db_column="rowid", primary_key=True, serialize=False)),
                ("search_terms", aftersales.service.term_index.FullTextColumn()),
            ],
            options={"db_table": "service_request_terms", "managed": False},
        ),
    ]
