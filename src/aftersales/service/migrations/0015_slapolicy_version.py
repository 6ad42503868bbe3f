"""Issue 21 §6: an SLA policy edited on the configuration pages and the API carries a version, so a stale form is
refused (409) instead of overwriting a newer change."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('service', '0014_search_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='slapolicy',
            name='version',
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
        migrations.AlterField(  # "%" in a msgid reads as a format to gettext: a label without it
            model_name='slapolicy',
            name='warn_at_percent',
            field=models.PositiveSmallIntegerField(default=80, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(99)], verbose_name='warn at (percent of the target)'),
        ),
    ]
