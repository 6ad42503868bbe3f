"""Issue 21 §6: the configuration's constraints answer a sentence, not their name (no schema change)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("service", "0012_restored_state"),
    ]

    operations = [
        migrations.AlterConstraint(
            model_name="calendarday",
            name="public_day_once",
            constraint=models.UniqueConstraint(condition=models.Q(("calendar__isnull", True)), fields=("day",), name="public_day_once",
                                               violation_error_message="This day is already in the public calendar."),
        ),
        migrations.AlterConstraint(
            model_name="calendarday",
            name="calendar_day_once",
            constraint=models.UniqueConstraint(fields=("calendar", "day"), name="calendar_day_once",
                                               violation_error_message="This day is already in this calendar."),
        ),
        migrations.AlterConstraint(
            model_name="calendarday",
            name="calendar_day_kind_known",
            constraint=models.CheckConstraint(condition=models.Q(("kind__in", ["off", "make_up"])), name="calendar_day_kind_known",
                                              violation_error_message="A day is either a day off or a make-up working day."),
        ),
        migrations.AlterConstraint(
            model_name="escalationrule",
            name="escalation_level_once",
            constraint=models.UniqueConstraint(fields=("branch", "level"), name="escalation_level_once",
                                               violation_error_message="This branch's ladder has a step at this level already."),
        ),
        migrations.AlterConstraint(
            model_name="slapolicy",
            name="one_default_policy",
            constraint=models.UniqueConstraint(condition=models.Q(("is_default", True)), fields=("is_default",), name="one_default_policy",
                                               violation_error_message="Another policy is the default already: only one policy can be the default."),
        ),
        migrations.AlterConstraint(
            model_name="slatargetrule",
            name="rule_once_per_policy",
            constraint=models.UniqueConstraint(fields=("policy", "priority", "kind"), name="rule_once_per_policy",
                                               violation_error_message="This policy has a target of this kind for this priority already."),
        ),
    ]
