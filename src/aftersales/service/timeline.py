"""The building blocks every verb uses: lock, compare the version, move the state, and write the timeline.

The timeline is the audit of requests, work orders and incident reports (SEC-2): each line names the actor, the
client's address and correlation id (core.request_context) and the fields the verb changed, old and new. Verbs
are the only writers of these models, so nothing else needs auditing. Other apps call verbs, never these."""

from django.core.exceptions import FieldDoesNotExist
from django.db.models import F
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import IllegalTransition
from aftersales.core.history import related_names, shown_value
from aftersales.core.request_context import request_context

from .models import ALLOWED, ServiceRequest, State, TimelineEvent

# Derived data (due times, the next check) and bookkeeping are not changes anyone made.
UNAUDITED = frozenset({"id", "number", "created_at", "updated_at", "version", "reply_due_at", "resolve_due_at",
                       "next_due_at", "next_check_at", "due_provisional", "public_token"})


def audited_fields(model) -> list:
    return [field for field in model._meta.concrete_fields if field.name not in UNAUDITED]


def snapshot(obj) -> dict:
    """The audited values of `obj` now (before a verb changes it)."""
    return {field.attname: field.value_from_object(obj) for field in audited_fields(type(obj))}


def changes_since(obj, before: dict, *, prefix: str = "") -> dict:
    """{field name: [old, new]} of what changed since `snapshot`, as JSON-safe text."""
    changed = {}
    for field in audited_fields(type(obj)):
        old, new = before.get(field.attname), field.value_from_object(obj)
        if old != new:
            changed[prefix + field.name] = [_as_text(old), _as_text(new)]
    return changed


def creation_changes(obj) -> dict:
    return {field.name: [None, _as_text(field.value_from_object(obj))] for field in audited_fields(type(obj))
            if field.value_from_object(obj) not in (None, "")}


def _as_text(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def lock_request(request) -> ServiceRequest:
    """The request's row, locked for the verb's transaction, with its audited values remembered for `record`."""
    locked = ServiceRequest.objects.select_for_update().select_related("policy__calendar").get(pk=request.pk)
    locked.audit_baseline = snapshot(locked)
    return locked



def bump_version(obj) -> None:
    """A change nobody asked for on a form (an alarm's recovery): forms open on the old version get a 409."""
    type(obj).objects.filter(pk=obj.pk).update(version=F("version") + 1)
    obj.version += 1


def move(request, to: str) -> None:
    if to not in ALLOWED[request.state]:
        raise IllegalTransition(
            _("A request that is “%(current)s” cannot become “%(target)s”.")
            % {"current": State(request.state).label, "target": State(to).label}
        )
    request.state = to


def timeline_event(request, kind, *, actor=None, at=None, text="", changes=None, **data) -> TimelineEvent:
    """An unsaved timeline line (for bulk writers); `record` writes one."""
    address, correlation_id = request_context()
    return TimelineEvent(request=request, kind=kind, at=at or clock.now(), actor=actor, text=text, data=data,
                         address=address, correlation_id=correlation_id, changes=changes or None)


def record(request, kind, *, actor=None, at=None, text="", changes=None, **data) -> TimelineEvent:
    """Write one timeline line. Without `changes`, those of the request since `lock_request` are recorded (and the
    baseline moves on, so the next line of the same verb does not repeat them)."""
    baseline = getattr(request, "audit_baseline", None)
    if changes is None and baseline is not None:
        changes = changes_since(request, baseline)
        request.audit_baseline = snapshot(request)
    event = timeline_event(request, kind, actor=actor, at=at, text=text, changes=changes, **data)
    event.save(force_insert=True)
    return event


def annotate_shown_changes(events) -> None:
    """Give each timeline line `shown`: its changes as staff read them, (the field's verbose name, old, new), with
    choices by their label, times in local time and related rows by their name (one query per related model for
    all the lines)."""
    from .models import IncidentReport, WorkOrder

    models = {"": ServiceRequest, "work_order.": WorkOrder, "incident_report.": IncidentReport}
    parsed, wanted = [], {}
    for event in events:
        rows = []
        for name, pair in (event.changes or {}).items():
            prefix, _dot, field_name = name.rpartition(".")
            model = models.get(prefix + "." if prefix else "")
            field = _field(model, field_name)
            rows.append((model, field, field_name, pair))
            if field is not None and field.is_relation:
                wanted.setdefault(field, set()).update(str(v) for v in pair if v is not None)
        parsed.append((event, rows))
    names = related_names(wanted)
    for event, rows in parsed:
        event.shown = [(_label(model, field, field_name), shown_value(field, old, names),
                        shown_value(field, new, names)) for model, field, field_name, (old, new) in rows]


def _field(model, name):
    try:
        return model._meta.get_field(name) if model is not None else None
    except FieldDoesNotExist:  # a field removed since the line was written: shown by its name
        return None


def _label(model, field, name) -> str:
    if field is None:
        return name
    label = str(field.verbose_name)
    if model is not ServiceRequest:
        label = f"{model._meta.verbose_name}: {label}"
    return label[:1].upper() + label[1:]
