"""SEC-2: the change history of what is edited through forms and the admin (django-auditlog), as users read it."""

from collections import defaultdict
from datetime import UTC, datetime

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.text import capfirst
from django.utils.translation import gettext


def audit_entries(obj, limit: int = 50) -> list[LogEntry]:
    """SEC-2: who changed what, when and from where, newest first.

    Each entry gets `shown_changes`, (the field's verbose name, old value, new value) as users see them: a choice's
    label, the related object's name, yes/no, a local time. Only the fields auditlog's registration of the model
    tracks are shown, so reverse relations, keys and timestamps stay out, also of entries written before the
    registration left them out. The related objects cost one query per related model, whatever the entries."""

    model = type(obj)
    entries = list(
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model), object_pk=str(obj.pk))
        .select_related("actor")
        .order_by("-timestamp")[:limit]
    )
    options = auditlog.get_model_fields(model) if auditlog.contains(model) else {"include_fields": [], "exclude_fields": []}

    def tracked(name):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return None
        if not field.concrete or field.many_to_many or name in options["exclude_fields"]:
            return None
        if options["include_fields"] and name not in options["include_fields"]:
            return None
        return field

    order = {field.name: index for index, field in enumerate(model._meta.get_fields())}
    changes = []  # (entry, [(field, old, new)] in the model's order)
    wanted = defaultdict(set)  # related field -> stored values
    for entry in entries:
        rows = []
        for name, change in entry.changes_dict.items():
            field = tracked(name)
            if field is None or not isinstance(change, (list, tuple)) or len(change) != 2:
                continue
            rows.append((field, *change))
            if field.is_relation:
                wanted[field].update(str(value) for value in change if value not in (None, "None", ""))
        changes.append((entry, sorted(rows, key=lambda row: order[row[0].name])))

    names = related_names(wanted)

    for entry, rows in changes:
        shown_rows = [(capfirst(field.verbose_name), shown_value(field, old, names), shown_value(field, new, names))
                      for field, old, new in rows]
        entry.shown_changes = [row for row in shown_rows if row[1] != row[2]]  # a created blank field changed nothing
    return entries


def related_names(values_by_field: dict) -> dict:
    """{(related model, stored value as text): the related row's name} for the values of relation fields a change
    history names ({field: values}): one query per related model, whatever the entries."""
    names = {}
    for field, values in values_by_field.items():
        target = field.target_field
        keys = []
        for value in values:
            try:
                keys.append(target.to_python(value))
            except ValidationError:
                continue
        related = field.related_model._default_manager.filter(**{f"{target.attname}__in": keys})
        names.update(((field.related_model, str(getattr(o, target.attname))), str(o)) for o in related)
    return names


def shown_value(field, value, names: dict) -> str:
    """A changed value as users read it: a related row's name ("#5" when it is gone), a choice's label, yes/no, a
    local time (stored as ISO text, with or without its offset: auditlog's are UTC without one); "" for nothing."""
    if value in (None, "None", ""):
        return ""
    if field is None:
        return str(value)
    if field.is_relation:
        return names.get((field.related_model, str(value)), f"#{value}")
    if field.choices:
        return str(dict((str(key), label) for key, label in field.flatchoices).get(str(value), value))
    if isinstance(field, models.BooleanField):
        return {"True": gettext("Yes"), "False": gettext("No")}.get(str(value), str(value))
    if isinstance(field, models.DateTimeField):
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, UTC)
        return format_date(timezone.localtime(moment), "Y-m-d H:i")
    return str(value)
