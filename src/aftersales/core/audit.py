"""SEC-2's audit entries for rows written without model signals (core.inserts, bulk writes).

django-auditlog writes an entry from a model's post_save signal through the ORM (a second signal adds the
actor and address the request's AuditlogMiddleware recorded). Writes that send no signals write the same entry
here, with one compiled INSERT: the changes are auditlog's diff (`creation_diff` below for a new row, its
`model_instance_diff` otherwise), the actor, address and correlation id come from the same context. auditlog's pre_log/post_log signals are not sent (we listen to none).
"""

from auditlog.cid import get_cid
from auditlog.context import auditlog_value
from auditlog.diff import get_field_value, get_mask_function, model_instance_diff, track_field
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import pre_save
from django.utils.encoding import smart_str

from .inserts import Insert

_insert_entries = Insert(LogEntry)
_FROM_CONTEXT = object()


def log_created(instances, *, actor=_FROM_CONTEXT, before_insert: tuple[dict | None, tuple] | None = None) -> list[LogEntry]:
    """The "create" entries auditlog would have written for `instances` (saved, with their keys).

    `before_insert`, for one instance: (its creation_diff without some fields, those fields), worked out before
    the row was written (outside SQLite's write lock); only those fields (its key, auto_now times) are read now."""
    if before_insert is not None:
        (instance,) = instances
        known, assigned = before_insert
        changes = {**(known or {}), **(creation_diff(instance, only=assigned) or {})}
        return write(LogEntry.Action.CREATE, [(instance, changes)], actor=actor)
    return write(LogEntry.Action.CREATE, [(instance, creation_diff(instance)) for instance in instances], actor=actor)


def creation_diff(instance, *, only=None, without=()) -> dict | None:
    """auditlog's `model_instance_diff(None, instance)`, each value formatted by auditlog's own `get_field_value`;
    the model's tracked fields are worked out once, and the "before" side of a creation is what auditlog makes of
    no instance: the text "None" for every field (it cost half the diff: an exception caught per field)."""
    if settings.AUDITLOG_STORE_JSON_CHANGES:
        diff = model_instance_diff(None, instance)
        return {name: change for name, change in (diff or {}).items()
                if (only is None or name in only) and name not in without} or None
    fields, masked, mask = _tracked_fields(type(instance))
    diff = {}
    for field in fields:
        if (only is not None and field.name not in only) or field.name in without:
            continue
        value = get_field_value(instance, field)
        if value != "None":
            diff[field.name] = (mask("None"), mask(smart_str(value))) if field.name in masked else ("None", smart_str(value))
    return diff or None


_tracked = {}


def _tracked_fields(model):
    """The fields model_instance_diff compares for `model`, the masked ones and the mask."""
    if model not in _tracked:
        from auditlog.registry import auditlog

        options = auditlog.get_model_fields(model)
        fields = [field for field in model._meta.get_fields() if track_field(field)]
        if options["include_fields"]:
            fields = [field for field in fields if field.name in options["include_fields"]]
        fields = [field for field in fields if field.name not in options["exclude_fields"]]
        _tracked[model] = (fields, set(options["mask_fields"]), get_mask_function(options.get("mask_callable"))
                           if options["mask_fields"] else None)
    return _tracked[model]


def write(action: int, entries, *, actor=_FROM_CONTEXT) -> list[LogEntry]:
    """One entry per (instance, changes) with changes; `actor` defaults to the request's (as auditlog's)."""
    context = _request_context()
    if actor is _FROM_CONTEXT:
        actor = context.get("actor")
    if not isinstance(actor, get_user_model()):
        actor = None
    extra = {key: value() if callable(value) else value for key, value in context.items()
             if key not in ("actor", "signal_duid") and hasattr(LogEntry, key)}
    cid = get_cid()
    rows = []
    for instance, changes in entries:
        if not changes:
            continue
        pk = instance.pk
        get_additional_data = getattr(instance, "get_additional_data", None)
        rows.append(LogEntry(
            content_type=ContentType.objects.get_for_model(instance), object_pk=pk,
            object_id=pk if isinstance(pk, int) else None, object_repr=smart_str(instance), action=action,
            changes=changes, cid=cid, serialized_data=LogEntry.objects._get_serialized_data_or_none(instance),
            additional_data=get_additional_data() if callable(get_additional_data) else None,
            actor=actor, actor_email=actor.email if actor else None, **extra,
        ))
    return _insert_entries(rows)


def _request_context() -> dict:
    """What AuditlogMiddleware (or auditlog's set_actor) recorded for the request being served, else nothing.

    The context variable keeps its value after the request; auditlog applies it only while the receiver it
    connected for that request is connected, and so does this."""
    context = auditlog_value.get(None)
    if not context:
        return {}
    uid = context.get("signal_duid")
    if not any(lookup_key[0] == uid for lookup_key, *_receiver in pre_save.receivers):
        return {}
    return dict(context)
