"""REP-1 (issue 22 §2-§4): the verbs on repair cases, vendor RMAs, replacements and loans, the only writers of
those rows.

Each verb is one transaction: it locks the case, compares the version the user saw (a stale one is a 409 with
nothing written), checks the step against the table in transitions.py (an illegal one is a 409 naming the step,
the state and what is possible now), writes, and records a RepairStep line (who, when, from which state to which).
Keyword-only arguments, the actor passed in, the clock read once."""

import re
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from aftersales.assets.models import Device, new_label_code
from aftersales.assets.services import retire as retire_device
from aftersales.billing import services as billing_services
from aftersales.contracts.services import cover_replacement
from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition
from aftersales.core.plausible import implausible_message, is_plausible
from aftersales.core.request_context import request_context
from aftersales.core.versioning import claim_version
from aftersales.intake.alarms.replacing import follow_replacement
from aftersales.parts import selectors as parts_selectors
from aftersales.parts import services as parts_services

from . import transitions
from .models import (
    ENDED_STATES,
    OPEN_STATES,
    DeviceReplacement,
    Loan,
    OpenedFrom,
    RepairCase,
    RepairState,
    RepairStep,
    ReplacementSource,
    StepKind,
    VendorRma,
    Verdict,
)

SHEET_STATES = (RepairState.FIXED, RepairState.CANCELLED)  # the steps that (re)issue the case's charge sheet
RMA_TURNAROUND_DAYS = 30  # expected back this long after it was sent, unless the form says otherwise


class Conflict(DomainError):
    """The change conflicts with existing data (an open case of the device, a serial in the registry)."""

    status = 409
    code = "conflict"


class UnitOnLoan(Conflict):
    code = "unit_on_loan"


# ------------------------------------------------------------------------------------------------ building blocks

def lock_case(case) -> RepairCase:
    return RepairCase.objects.select_for_update().get(pk=case.pk)



def record(case, kind, *, actor, at, note="", from_state="", to_state="", **data) -> RepairStep:
    address, correlation_id = request_context()
    return RepairStep.objects.create(case=case, kind=kind, actor=actor, at=at, note=note, from_state=from_state,
                                     to_state=to_state, data=data, address=address, correlation_id=correlation_id)


def _begin(case, version, name) -> RepairCase:
    """Lock, compare the version, check the step is allowed now."""
    case = lock_case(case)
    claim_version(case, version)
    transitions.check(name, case)
    return case


def _move(case, name, *, by, at, note="", extra_fields=(), **data) -> RepairStep:
    """Take step `name` (checked by `_begin`): the new state, saved with `extra_fields`, and its history line."""
    before, case.state = case.state, transitions.TRANSITIONS[name].target
    fields = ["state", "updated_at", *extra_fields]
    if case.state in ENDED_STATES:
        case.ended_at = at
        fields.append("ended_at")
    case.save(update_fields=fields)
    if case.state in SHEET_STATES:  # CUS-5: what the repair cost, and what the customer owes, in the step's transaction
        billing_services.issue_for_repair(case)
    return record(case, name, actor=by, at=at, note=note, from_state=before, to_state=case.state, **data)


def _actor(by):
    return by if by is not None and by.is_authenticated else None


def normalize_serial(serial: str) -> str:
    """A unit's serial as stored on a loan: capitals, no surrounding or doubled spaces (one unit, one spelling)."""
    return re.sub(r"\s+", " ", (serial or "").strip()).upper()


def _required(text: str, field: str, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise DomainError(message, field=field)
    return text


def _past_or_today(day: date | None, field: str, today: date) -> date:
    day = day or today
    if not is_plausible(day):
        raise DomainError(implausible_message(), field=field)
    if day > today:
        raise DomainError(_("This date cannot be in the future."), field=field)
    return day


# ------------------------------------------------------------------------------------------------ opening

@transaction.atomic
def open_case(*, by, device, fault: str, service_request=None, finding_ref: str = "") -> RepairCase:
    """Open the repair of `device`: from a service request (which must be of the device's project), from the
    device itself, or from an inspection finding (`finding_ref`, a free reference until inspections exist)."""
    fault = _required(fault, "fault", _("Describe the fault."))
    finding_ref = (finding_ref or "").strip()
    if service_request is not None and service_request.project_id != device.project_id:
        raise DomainError(_("The device must belong to the service request's project."), field="device")
    replaced = DeviceReplacement.objects.filter(old=device).select_related("new").first()
    if replaced is not None:
        raise DomainError(_("This device was replaced by %(serial)s: open the repair on the device in service.")
                          % {"serial": replaced.new.serial_number}, field="device")
    now = clock.now()
    opened_from = (OpenedFrom.REQUEST if service_request is not None
                   else OpenedFrom.INSPECTION if finding_ref else OpenedFrom.DEVICE)
    case = RepairCase(device=device, customer_id=device.project.customer_id, branch_id=device.project.branch_id,
                      service_request=service_request, finding_ref=finding_ref, opened_from=opened_from, fault=fault,
                      opened_by=_actor(by), opened_at=now)
    try:
        with transaction.atomic():
            case.save(force_insert=True)
    except IntegrityError:
        existing = RepairCase.objects.filter(device=device, state__in=OPEN_STATES).first()
        if existing is None:
            raise
        raise Conflict(_("This device has an open repair case already: %(number)s.") % {"number": existing.number},
                       field="device") from None
    record(case, StepKind.OPENED, actor=_actor(by), at=now, note=fault, to_state=case.state,
           service_request=service_request.number if service_request else None, finding_ref=finding_ref or None)
    return case


# ------------------------------------------------------------------------------------------------ on site

@transaction.atomic
def repair_on_site(*, case, by, version: int, note: str = "") -> RepairCase:
    """The diagnosis says the device can be repaired where it is."""
    case = _begin(case, version, "repair_on_site")
    _move(case, "repair_on_site", by=by, at=clock.now(), note=note.strip())
    return case


@transaction.atomic
def finish_repair(*, case, by, version: int, note: str) -> RepairCase:
    """Repaired on site: the device is back in service."""
    note = _required(note, "note", _("Say what was repaired."))
    case = _begin(case, version, "finish_repair")
    _move(case, "finish_repair", by=by, at=clock.now(), note=note)
    return case


# ------------------------------------------------------------------------------------------------ replacement (§3)

@transaction.atomic
def plan_replacement(*, case, by, version: int, source: str, note: str = "") -> RepairCase:
    """The unit is to be replaced; the case waits for the replacement unit."""
    if source not in ReplacementSource.values:
        raise DomainError(_("Say where the replacement unit comes from."), field="source")
    case = _begin(case, version, "plan_replacement")
    case.replacement_source = source
    _move(case, "plan_replacement", by=by, at=clock.now(), note=note.strip(), extra_fields=["replacement_source"],
          source=source)
    return case


@transaction.atomic
def replace(*, case, by, version: int, serial: str, source: str, from_where: str = "", model: str = "",
            manufacturer=None, note: str = "", part=None, location=None) -> RepairCase:
    """Install a replacement unit: a new Device row with the new serial, linked to the old one, which it retires;
    the QR label follows the new device (see `swap_in_replacement`).

    `source` says where the unit came from: the customer, the manufacturer, or our stock. From stock, the step names
    the catalogue `part` and the `location` it is taken from (by default the user's own van), and one unit leaves
    the parts ledger in this same transaction (a "used" movement linked to the case, with the new serial when the
    part is serial-tracked): when the location may not be used or is out of stock, the whole step is refused and
    nothing is written."""
    serial = _required(serial, "serial", _("Give the serial number of the replacement unit."))
    if source not in ReplacementSource.values:
        raise DomainError(_("Say where the replacement unit comes from."), field="source")
    from_where = (from_where or "").strip()
    if source == ReplacementSource.STOCK:
        location = _stock_location(part, location, by)
        from_where = from_where or str(location)
    else:
        for name, given in (("part", part), ("location", location)):
            if given is not None:
                raise DomainError(_("Only a unit from our stock names a part and a location."), field=name)
    case = _begin(case, version, "replace")
    now = clock.now()
    new = swap_in_replacement(case, by=_actor(by), at=now, serial=serial, source=source, from_where=from_where,
                              model=(model or "").strip(), manufacturer=manufacturer)
    stock = {}
    if source == ReplacementSource.STOCK:
        movement = _issue_from_stock(case, part=part, location=location, by=by, serial=new.serial_number)
        stock = {"part": part.pk, "location": location.pk, "movement": movement.pk}
    _move(case, "replace", by=by, at=now, note=note.strip(), extra_fields=["replaced_by", "replacement_source"],
          source=source, from_where=from_where or None, new_device=new.pk, new_serial=new.serial_number, **stock)
    return case


def _stock_location(part, location, by):
    """A unit from stock names its part, and the location it is taken from: the one given, or the user's van."""
    if part is None:
        raise DomainError(_("Choose the spare part the replacement unit is taken as."), field="part")
    location = location or (parts_selectors.van_of(by) if by is not None and by.is_authenticated else None)
    if location is None:
        raise DomainError(_("Choose the stock location the replacement unit is taken from."), field="location")
    return location


def _issue_from_stock(case, *, part, location, by, serial: str):
    """One unit out of the parts ledger, inside the replace step's transaction; a refusal (wrong location, out of
    stock, inactive part) is raised on the step's own fields, and the step's writes roll back with it."""
    try:
        return parts_services.use_part(part=part, location=location, quantity=1, by=by, repair_case=case,
                                       serials=[serial] if part.serial_tracked else (), reference=case.number)
    except DomainError as error:
        if error.field in ("quantity", "serials"):  # fields the replace step does not have
            error.field = "part" if error.field == "quantity" else "serial"
        raise


def unit_in_service(case) -> Device:
    """The device the case repairs now: the last replacement, or the device it was opened on."""
    return case.replaced_by if case.replaced_by_id else case.device


def swap_in_replacement(case, *, by, at, serial: str, source: str, from_where: str = "", model: str = "",
                        manufacturer=None) -> Device:
    """§3, inside the caller's transaction: the new unit becomes a Device row (the same project, category, name and
    location; model and manufacturer unless changed), linked to the unit it replaces by a DeviceReplacement row.

    The label follows the new device: a QR label encodes its device's `label_code` (intake/labels/codes.py), and the
    label stuck on site is the old unit's. So the new device takes over the old device's code, and the old device,
    retired, gets a fresh one: a scan of the old label opens the new device, and nothing in intake needs to know
    about replacements. Both rows change in this one transaction (the code is unique: the old row lets go first)."""
    old = Device.objects.select_for_update().select_related("project").get(pk=case.replaced_by_id or case.device_id)
    if DeviceReplacement.objects.filter(old=old).exists():
        raise Conflict(_("This device was replaced already."), field="serial")
    manufacturer = manufacturer or old.manufacturer
    if Device.objects.filter(manufacturer=manufacturer, serial_number=serial).exists():
        raise Conflict(_("A %(manufacturer)s device with serial number %(serial)s is in the registry already.")
                       % {"manufacturer": manufacturer, "serial": serial}, field="serial")
    label_code = old.label_code
    Device.objects.filter(pk=old.pk).update(label_code=new_label_code())
    new = Device(project=old.project, category_id=old.category_id, manufacturer=manufacturer, name=old.name,
                 model=model or old.model, serial_number=serial, location=old.location,
                 installed_on=at.astimezone(clock.SHANGHAI).date(),
                 supplier="" if source == ReplacementSource.CUSTOMER else old.supplier,
                 notes=_("Replaces %(serial)s (repair case %(number)s).") % {"serial": old.serial_number,
                                                                             "number": case.number},
                 label_code=label_code)
    new.save(force_insert=True)
    coverage_for_replacement(old=old, new=new, on=at.astimezone(clock.SHANGHAI).date(), by=by)
    DeviceReplacement.objects.create(old=old, new=new, case=case, source=source, from_where=from_where, at=at, by=by)
    retire_device(old, at=at, replaced_by=new)  # out of lists, pickers, label sheets, counts and reminders
    follow_replacement(old=old, new=new)  # the monitoring system's ids of the old unit now mean the new one
    case.replaced_by, case.replacement_source = new, source
    return new


def coverage_for_replacement(*, old: Device, new: Device, on, by) -> None:
    """§3: the coverage the replacement gets (after `new` is saved) is the contracts' rule: carried over, or restarted
    on the day of the replacement when a contract covering the old device that day says so; contracts that list the
    old device list the new one too (contracts.services.cover_replacement)."""
    cover_replacement(old_device=old, new_device=new, on=on, by=by)


# ------------------------------------------------------------------------------------------------ vendor RMA

def _rma_fields(*, rma_number, manufacturer, vendor_name, carrier, tracking_number) -> dict:
    rma_number = _required(rma_number, "rma_number", _("Give the manufacturer's RMA number."))
    vendor_name = (vendor_name or "").strip()
    if manufacturer is None and not vendor_name:
        raise DomainError(_("Choose the manufacturer or name the vendor."), field="manufacturer")
    return {"rma_number": rma_number, "manufacturer": manufacturer, "vendor_name": "" if manufacturer else vendor_name,
            "carrier": (carrier or "").strip(), "tracking_number": (tracking_number or "").strip()}


def _expected(expected_back_on, sent_on) -> date:
    expected = expected_back_on or sent_on + timedelta(days=RMA_TURNAROUND_DAYS)
    if not is_plausible(expected):
        raise DomainError(implausible_message(), field="expected_back_on")
    if expected < sent_on:
        raise DomainError(_("The unit cannot be expected back before it was sent."), field="expected_back_on")
    return expected


@transaction.atomic
def send_to_vendor(*, case, by, version: int, rma_number: str, manufacturer=None, vendor_name: str = "",
                   carrier: str = "", tracking_number: str = "", sent_on: date | None = None,
                   expected_back_on: date | None = None, note: str = "") -> RepairCase:
    """The unit leaves for its manufacturer under an RMA number, by a carrier with a tracking number."""
    today = clock.today()
    fields = _rma_fields(rma_number=rma_number, manufacturer=manufacturer, vendor_name=vendor_name, carrier=carrier,
                         tracking_number=tracking_number)
    sent_on = _past_or_today(sent_on, "sent_on", today)
    expected = _expected(expected_back_on, sent_on)
    case = _begin(case, version, "send_to_vendor")
    rma = VendorRma.objects.create(case=case, sent_on=sent_on, expected_back_on=expected, sent_by=_actor(by), **fields)
    _move(case, "send_to_vendor", by=by, at=clock.now(), note=note.strip(), rma=rma.pk, rma_number=rma.rma_number,
          vendor=rma.vendor, carrier=rma.carrier or None, tracking_number=rma.tracking_number or None,
          sent_on=sent_on.isoformat(), expected_back_on=expected.isoformat())
    return case


def open_rma(case) -> VendorRma | None:
    return VendorRma.objects.filter(case=case, returned_on__isnull=True).select_related("manufacturer").first()


@transaction.atomic
def update_rma(*, case, by, version: int, rma_number: str, manufacturer=None, vendor_name: str = "",
               carrier: str = "", tracking_number: str = "", expected_back_on: date | None = None) -> RepairCase:
    """Correct the details of the shipment in flight (the RMA form): not a step, a history line with the changes."""
    fields = _rma_fields(rma_number=rma_number, manufacturer=manufacturer, vendor_name=vendor_name, carrier=carrier,
                         tracking_number=tracking_number)
    case = lock_case(case)
    claim_version(case, version)
    rma = open_rma(case)
    if rma is None:
        raise IllegalTransition(_("No shipment to the manufacturer is in flight on this case."))
    fields["expected_back_on"] = _expected(expected_back_on or rma.expected_back_on, rma.sent_on)
    changes = {}
    for name, value in fields.items():
        old = getattr(rma, name)
        if old != value:
            changes[name] = [_shown(old), _shown(value)]
            setattr(rma, name, value)
    if changes:
        rma.save(update_fields=[*fields, "updated_at"])
        record(case, StepKind.RMA_UPDATED, actor=_actor(by), at=clock.now(), rma=rma.pk, changes=changes)
    return case


def _shown(value):
    if value is None or isinstance(value, str):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


@transaction.atomic
def return_from_vendor(*, case, by, version: int, verdict: str, returned_on: date | None = None,
                       returned_serial: str = "", vendor_report: str = "", note: str = "") -> RepairCase:
    """The unit is back: the manufacturer repaired it, sent another unit (its serial), or rejected it."""
    if verdict not in Verdict.values:
        raise DomainError(_("Choose the manufacturer's verdict."), field="verdict")
    returned_serial = (returned_serial or "").strip()
    if verdict == Verdict.REPLACED and not returned_serial:
        raise DomainError(_("Give the serial number of the unit the manufacturer sent instead."),
                          field="returned_serial")
    returned_on = _past_or_today(returned_on, "returned_on", clock.today())
    case = _begin(case, version, "return_from_vendor")
    rma = open_rma(case)
    if returned_on < rma.sent_on:
        raise DomainError(_("The unit cannot be back before it was sent (%(sent)s).") % {"sent": rma.sent_on.isoformat()},
                          field="returned_on")
    rma.returned_on, rma.verdict, rma.received_by = returned_on, verdict, _actor(by)
    rma.returned_serial = returned_serial if verdict == Verdict.REPLACED else ""
    rma.vendor_report = (vendor_report or "").strip()
    rma.save(update_fields=["returned_on", "verdict", "received_by", "returned_serial", "vendor_report", "updated_at"])
    _move(case, "return_from_vendor", by=by, at=clock.now(), note=note.strip(), rma=rma.pk,
          rma_number=rma.rma_number, verdict=verdict, returned_on=returned_on.isoformat(),
          returned_serial=rma.returned_serial or None)
    return case


@transaction.atomic
def reinstall(*, case, by, version: int, note: str = "") -> RepairCase:
    """The unit back from the manufacturer is installed again. When the manufacturer sent another unit (verdict
    replaced, another serial), that unit replaces the device: a new Device row, linked, and the label follows it."""
    case = _begin(case, version, "reinstall")
    now = clock.now()
    rma = transitions.last_rma(case)
    data = {}
    if rma is not None and rma.verdict == Verdict.REPLACED and rma.returned_serial != unit_in_service(case).serial_number:
        new = swap_in_replacement(case, by=_actor(by), at=now, serial=rma.returned_serial, source=ReplacementSource.VENDOR,
                                  from_where=f"RMA {rma.rma_number} · {rma.vendor}")
        data = {"new_device": new.pk, "new_serial": new.serial_number}
    _move(case, "reinstall", by=by, at=now, note=note.strip(),
          extra_fields=["replaced_by", "replacement_source"] if data else (), **data)
    return case


# ------------------------------------------------------------------------------------------------ the rest of the table

@transaction.atomic
def rediagnose(*, case, by, version: int, note: str) -> RepairCase:
    """The chosen way did not work (the repair did not hold, the manufacturer rejected the unit): diagnose again."""
    note = _required(note, "note", _("Say why the case goes back to diagnosis."))
    case = _begin(case, version, "rediagnose")
    _move(case, "rediagnose", by=by, at=clock.now(), note=note)
    return case


@transaction.atomic
def close(*, case, by, version: int, note: str = "") -> RepairCase:
    """The device is back in service and every loaned unit is back (transitions.GUARDS)."""
    case = _begin(case, version, "close")
    _move(case, "close", by=by, at=clock.now(), note=note.strip())
    return case


@transaction.atomic
def cancel(*, case, by, version: int, reason: str) -> RepairCase:
    reason = _required(reason, "reason", _("Say why the case is cancelled."))
    case = _begin(case, version, "cancel")
    _move(case, "cancel", by=by, at=clock.now(), note=reason)
    return case


# ------------------------------------------------------------------------------------------------ loans (§4)

@transaction.atomic
def lend_unit(*, case, by, version: int, unit_serial: str, unit_model: str, due_back_on: date, lent_to: str = "",
              note: str = "") -> Loan:
    """Lend a spare unit while the device is away (SRQ-5 contingency). One open loan per unit is the database's
    rule (Loan's `one_open_loan_per_unit`); a second one is turned into a clear error naming the loan that holds it."""
    serial = normalize_serial(unit_serial)
    if not serial:
        raise DomainError(_("Give the serial number of the unit lent."), field="unit_serial")
    unit_model = _required(unit_model, "unit_model", _("Give the model of the unit lent."))
    today = clock.today()
    if due_back_on is None or not is_plausible(due_back_on):
        raise DomainError(implausible_message(), field="due_back_on")
    if due_back_on < today:
        raise DomainError(_("The unit cannot be due back before today."), field="due_back_on")
    case = lock_case(case)
    claim_version(case, version)
    if not case.is_open:
        raise IllegalTransition(_("A spare unit is lent only while the case is open; this one is “%(state)s”.")
                                % {"state": RepairState(case.state).label})
    now = clock.now()
    try:
        with transaction.atomic():
            loan = Loan.objects.create(case=case, unit_serial=serial, unit_model=unit_model,
                                       lent_to=(lent_to or "").strip(), lent_at=now, due_back_on=due_back_on,
                                       lent_by=by, note=(note or "").strip())
    except IntegrityError:
        holder = Loan.objects.filter(unit_serial=serial, returned_at__isnull=True).select_related("case").first()
        if holder is None:
            raise
        raise UnitOnLoan(_("Unit %(serial)s is out on loan already (repair case %(number)s, due back %(due)s): it must "
                           "come back before it is lent again.")
                         % {"serial": serial, "number": holder.case.number, "due": holder.due_back_on.isoformat()},
                         field="unit_serial") from None
    record(case, StepKind.LOAN_LENT, actor=_actor(by), at=now, note=loan.note, loan=loan.pk, serial=serial,
           model=unit_model, due_back_on=due_back_on.isoformat(), lent_to=loan.lent_to or None)
    return loan


@transaction.atomic
def return_loan(*, loan, by, version: int, note: str = "") -> Loan:
    """The lent unit is back."""
    loan = Loan.objects.select_for_update().select_related("case").get(pk=loan.pk)
    claim_version(loan, version)
    if loan.returned_at is not None:
        raise IllegalTransition(_("This unit was returned already."))
    now = clock.now()
    loan.returned_at, loan.returned_by, loan.return_note = now, _actor(by), (note or "").strip()
    loan.save(update_fields=["returned_at", "returned_by", "return_note", "updated_at"])
    record(loan.case, StepKind.LOAN_RETURNED, actor=_actor(by), at=now, note=loan.return_note, loan=loan.pk,
           serial=loan.unit_serial, overdue=loan.due_back_on < clock.today())
    return loan
