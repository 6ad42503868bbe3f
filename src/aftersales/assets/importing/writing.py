"""Writing an import: plan again under lock, then every row in ONE transaction, or nothing when any row has an
error or the plan differs from the one the user confirmed.

Rows are written in batches (a 20,000-row list must finish within a web request), so model signals do not fire;
the audit trail (SEC-2) is written here instead, one django-auditlog entry per created or changed device, with
auditlog's own diff, the importing user as actor and the address of the request that ran the import.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from auditlog.cid import get_cid
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.request_context import client_address, forwarded_port
from aftersales.customers.models import Project

from ..models import Device, Manufacturer
from .errors import ImportConflict, PlanChanged, RowErrors
from .planning import CREATE, UPDATE, ImportPlan, plan
from .reading import ParsedFile

WRITE_BATCH = 500


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    new_manufacturers: list[str] = field(default_factory=list)

    @property
    def written(self) -> bool:
        return bool(self.created or self.updated)


def request_address(request) -> dict:
    """commit()'s `remote_addr` and `remote_port` for the request that runs the import, read as django-auditlog
    reads them for its own entries (X-Forwarded-For and X-Forwarded-Port when a proxy sets them)."""
    return {"remote_addr": client_address(request), "remote_port": forwarded_port(request)}


def commit(
    parsed: ParsedFile, user, *, default_project: Project | None = None, expected_fingerprint: str | None = None,
    remote_addr: str | None = None, remote_port: int | None = None,
) -> tuple[ImportPlan, ImportResult]:
    """Re-validate and write in ONE transaction: every row, or nothing (RowErrors, PlanChanged, ImportConflict).
    `remote_addr`/`remote_port` (see request_address()) go into the audit entries."""
    try:
        with transaction.atomic():
            result = plan(parsed, user, default_project=default_project, lock=True)
            if result.has_errors:
                raise RowErrors(result)
            if expected_fingerprint is not None and result.fingerprint != expected_fingerprint:
                raise PlanChanged(result)
            return result, apply(result, user, remote_addr=remote_addr, remote_port=remote_port)
    except IntegrityError:
        raise ImportConflict(
            _("Someone registered some of these devices at the same time, so nothing was written. Try again.")
        ) from None


def apply(result: ImportPlan, user, *, remote_addr: str | None = None, remote_port: int | None = None) -> ImportResult:
    """Write a plan without errors. Call inside a transaction (commit() does)."""
    if result.has_errors:
        raise RowErrors(result)
    outcome = ImportResult(new_manufacturers=list(result.new_manufacturers))
    created_makers = {}
    for name in result.new_manufacturers:
        created_makers[name.casefold()], _created = Manufacturer.objects.get_or_create(name=name)

    new_devices: list[Device] = []
    changed: list[tuple[Device, Device, list[str]]] = []  # (before, after, fields)
    now = timezone.now()
    for row in result.rows:
        values = row.values
        if row.action == CREATE:
            device = Device(
                project=row.project, category=row.category,
                manufacturer=row.manufacturer or created_makers[values["manufacturer"].casefold()],
                name=values["name"], model=values["model"], serial_number=values["serial_number"],
                location=values.get("location") or "", installed_on=values.get("installed_on"),
                supplier=values.get("supplier") or "", notes=values.get("notes") or "",
            )
            device.refresh_warranty(row.project)
            new_devices.append(device)
        elif row.action == UPDATE:
            before = copy.copy(row.device)
            for change in row.changes:
                setattr(row.device, change.field, row.category if change.field == "category" else values[change.field])
            row.device.updated_at = now
            changed.append((before, row.device, [c.field for c in row.changes]))
        else:
            outcome.unchanged += 1

    if new_devices:
        Device.objects.bulk_create(new_devices, batch_size=WRITE_BATCH)  # SQLite ≥ 3.35 and PostgreSQL set the ids
    outcome.created = len(new_devices)
    for fields in {tuple(sorted(f)) for _b, _a, f in changed}:
        batch = [after for _b, after, f in changed if tuple(sorted(f)) == fields]
        Device.objects.bulk_update(batch, [*fields, "updated_at"], batch_size=WRITE_BATCH)
    outcome.updated = len(changed)

    audit = AuditEntries(user, remote_addr=remote_addr, remote_port=remote_port)
    for device in new_devices:
        audit.add(device, LogEntry.Action.CREATE, model_instance_diff(None, device))
    for before, after, fields in changed:
        audit.add(after, LogEntry.Action.UPDATE, model_instance_diff(before, after, fields_to_check=fields))
    audit.write()
    return outcome


class AuditEntries:
    """The entries django-auditlog's post_save receiver would write for these devices (Device is registered without
    serialize_data and has no get_additional_data), written with one bulk_create instead of one INSERT each."""

    def __init__(self, actor, *, remote_addr: str | None, remote_port: int | None):
        self.common = {
            "content_type": ContentType.objects.get_for_model(Device), "cid": get_cid(), "actor": actor,
            "actor_email": getattr(actor, "email", None), "remote_addr": remote_addr, "remote_port": remote_port,
        }
        self.entries: list[LogEntry] = []

    def add(self, device: Device, action: int, changes: dict | None) -> None:
        if changes:  # auditlog writes no entry for a save that changed nothing it tracks
            self.entries.append(LogEntry(
                object_pk=str(device.pk), object_id=device.pk, object_repr=str(device), action=action,
                changes=changes, **self.common,
            ))

    def write(self) -> None:
        LogEntry.objects.bulk_create(self.entries, batch_size=WRITE_BATCH)
