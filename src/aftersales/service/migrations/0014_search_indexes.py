"""Issue 21 §8, search: the reporter's phone key (service/search.py) and the reporter's name, indexed.

Written by hand with only these two operations (other engineers' model changes have migrations of their own)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("service", "0013_config_constraint_messages"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="servicerequest",
            index=models.Index(
                models.Func(models.F("reporter_phone"), template=(
                    "REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(%(expressions)s, ' ', ''), '-', ''), '+', ''), '(', ''), ')', '')")),
                name="srq_reporter_phone_key",
            ),
        ),
        migrations.AddIndex(
            model_name="servicerequest",
            index=models.Index(fields=["reporter_name"], name="srq_reporter_name"),
        ),
    ]
