"""INS-3: the checklists every installation starts with, per device category code (assets.DeviceCategory.code, as the
demo and the import use them). Written by services.ensure_default_checklists(); from then on they are ordinary
checklists that a manager revises (each edit a new version).

Item: (kind, label, unit, min, max, evidence_required). Labels and units are msgids, written in the installation's language; a unit of "%" is not translated."""

from decimal import Decimal

from django.utils.translation import gettext_noop

from .models import ItemKind

P, R, PH, T = ItemKind.PASS_FAIL, ItemKind.READING, ItemKind.PHOTO, ItemKind.TEXT

DEFAULT_CHECKLISTS: dict[str, tuple[str, list[tuple]]] = {
    "camera": (gettext_noop("Camera routine check"), [
        (P, gettext_noop("Image clear (focus, no noise, night vision)"), "", None, None, True),
        (P, gettext_noop("Lens and housing cleaned"), "", None, None, True),
        (P, gettext_noop("Time in sync with the platform"), "", None, None, False),
        (P, gettext_noop("Recording present for the last 24 hours"), "", None, None, False),
        (T, gettext_noop("Remarks"), "", None, None, False),
    ]),
    "nvr": (gettext_noop("NVR routine check"), [
        (P, gettext_noop("Disk health (S.M.A.R.T., no failed disk)"), "", None, None, False),
        (R, gettext_noop("Days of recording kept"), gettext_noop("days"), Decimal(30), None, False),
        (P, gettext_noop("All channels online"), "", None, None, False),
        (P, gettext_noop("Fans and temperature normal"), "", None, None, False),
        (PH, gettext_noop("Photo of the front panel"), "", None, None, True),
    ]),
    "switch": (gettext_noop("Switch routine check"), [
        (P, gettext_noop("Ports up as documented, no errors"), "", None, None, False),
        (R, gettext_noop("PoE power used, share of the budget"), "%", Decimal(0), Decimal(80), False),
        (P, gettext_noop("Configuration backed up"), "", None, None, False),
    ]),
    "server": (gettext_noop("Server routine check"), [
        (P, gettext_noop("Hardware status lights normal"), "", None, None, False),
        (R, gettext_noop("System disk free space"), "%", Decimal(20), Decimal(100), False),
        (R, gettext_noop("CPU load at the time of the check"), "%", Decimal(0), Decimal(85), False),
        (P, gettext_noop("Platform services running, logs without errors"), "", None, None, False),
        (P, gettext_noop("Backup done and readable"), "", None, None, True),
    ]),
    "access-control": (gettext_noop("Access control routine check"), [
        (P, gettext_noop("Card reader opens the door"), "", None, None, False),
        (P, gettext_noop("Lock and door sensor work"), "", None, None, False),
        (P, gettext_noop("Events reach the platform"), "", None, None, False),
        (P, gettext_noop("Time in sync with the platform"), "", None, None, False),
    ]),
}
