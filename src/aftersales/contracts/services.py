"""CUS-4 verbs of maintenance contracts (issue 22 §1, §3). Each is one transaction; the contract's row is locked, and
a person's change names the version they saw (a second writer gets the stale-object error, 409).

A renewal is a new `CoveragePeriod` that `renews` the latest one — never an edited end date — so the history of who
was covered when survives, and the renewal brings its own reminders (reminders.py)."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition
from aftersales.core.plausible import implausible_message, is_plausible
from aftersales.core.versioning import claim_version

from .coverage import merge, periods_of, same_length
from .models import (
    MAX_NOTICE_DAYS,
    CoverageKind,
    CoveragePeriod,
    Renewal,
    ReplacementCoverage,
    ResponseTier,
    ServiceContract,
)

CONTRACT_FIELDS = ("number", "signed_on", "amount", "notes", "renewal", "notice_days", "replacement")
COVERS = ("covers_parts", "covers_labour", "covers_onsite", "response_tier")


# ---------------------------------------------------------------------------------------------------------- checks

def _claim(obj, version) -> None:
    claim_version(obj, version, touch=True)


def _locked(contract: ServiceContract) -> ServiceContract:
    return ServiceContract.objects.select_for_update().select_related("project").get(pk=contract.pk)


def _plausible(value: date | None, field_name: str) -> None:
    if value is not None and not is_plausible(value):
        raise DomainError(implausible_message(), field=field_name)


def _check_dates(starts_on: date, ends_on: date) -> None:
    _plausible(starts_on, "starts_on")
    _plausible(ends_on, "ends_on")
    if ends_on < starts_on:
        raise DomainError(_("A period cannot end before it starts."), field="ends_on")


def _check_covers(values: dict) -> None:
    tier = values.get("response_tier")
    if tier not in (None, "", *ResponseTier.values):
        raise DomainError(_("Choose a response tier from the list."), field="response_tier")


def _check_contract(values: dict, *, contract: ServiceContract | None = None) -> None:
    if "number" in values:
        values["number"] = (values["number"] or "").strip()
        if not values["number"]:
            raise DomainError(_("A contract number is required."), field="number")
        taken = ServiceContract.objects.filter(number=values["number"])
        if contract is not None:
            taken = taken.exclude(pk=contract.pk)
        if taken.exists():
            raise DomainError(_("A contract with this number exists already."), field="number")
    _plausible(values.get("signed_on"), "signed_on")
    if values.get("amount") is not None and values["amount"] < 0:
        raise DomainError(_("The amount cannot be negative."), field="amount")
    notice = values.get("notice_days")
    if notice is not None and not 0 <= notice <= MAX_NOTICE_DAYS:
        raise DomainError(_("Give the notice in days, from 0 to %(max)s.") % {"max": MAX_NOTICE_DAYS},
                          field="notice_days")
    if "renewal" in values and values["renewal"] not in Renewal.values:
        raise DomainError(_("Choose tacit or express renewal."), field="renewal")
    if "replacement" in values and values["replacement"] not in ReplacementCoverage.values:
        raise DomainError(_("Choose what a replacement device gets."), field="replacement")


def _check_devices(project, devices) -> list:
    devices = list(dict.fromkeys(devices))
    foreign = [device for device in devices if device.project_id != project.pk]
    if foreign:
        raise DomainError(_("%(device)s is not a device of project %(project)s.")
                          % {"device": foreign[0], "project": project.name}, field="devices")
    return devices


# ----------------------------------------------------------------------------------------------------------- verbs

@transaction.atomic
def create_contract(*, by, project, number: str, starts_on: date, ends_on: date, devices=(), signed_on=None,
                    amount=None, notes: str = "", renewal: str = Renewal.EXPRESS, notice_days: int = 30,
                    replacement: str = ReplacementCoverage.CARRY_OVER, covers_parts: bool = True,
                    covers_labour: bool = True, covers_onsite: bool = True, response_tier: str = "") -> ServiceContract:
    """CUS-4: a maintenance contract (维保合同) of `project` — for the devices listed, or the whole project when none
    is — with its first period."""
    values = {"number": number, "signed_on": signed_on, "amount": amount, "notes": notes, "renewal": renewal,
              "notice_days": notice_days, "replacement": replacement}
    _check_contract(values)
    _check_dates(starts_on, ends_on)
    covers = {"covers_parts": covers_parts, "covers_labour": covers_labour, "covers_onsite": covers_onsite,
              "response_tier": response_tier or ""}
    _check_covers(covers)
    devices = _check_devices(project, devices)
    contract = ServiceContract.objects.create(project=project, whole_project=not devices, created_by=by, **values)
    if devices:
        contract.devices.set(devices)
    CoveragePeriod.objects.create(contract=contract, starts_on=starts_on, ends_on=ends_on, created_by=by, **covers)
    return contract


@transaction.atomic
def update_contract(*, contract: ServiceContract, by, version: int, devices=None, **changes) -> ServiceContract:
    """Change a contract's terms. `devices`: None leaves them, a list replaces them (empty: the whole project).
    Its project and periods stay: a period changes through `renew` or, for a typo, `correct_period`."""
    unknown = set(changes) - set(CONTRACT_FIELDS)
    if unknown:
        raise TypeError(f"update_contract() cannot change {sorted(unknown)}")
    contract = _locked(contract)
    _check_contract(changes, contract=contract)
    if devices is not None:
        devices = _check_devices(contract.project, devices)
    _claim(contract, version)
    for name, value in changes.items():
        setattr(contract, name, value if name != "notes" else value or "")
    if devices is not None:
        contract.whole_project = not devices
        contract.devices.set(devices)
    contract.save(update_fields=[*changes, "whole_project", "updated_at"])
    return contract


@transaction.atomic
def renew(*, contract: ServiceContract | None = None, period: CoveragePeriod | None = None, by=None,
          version: int | None = None, starts_on: date | None = None, ends_on: date | None = None,
          **covers) -> CoveragePeriod:
    """CUS-4: add the next period of a contract — a renewal is a new period, never an edited end date.

    Renews `period`, or the contract's latest period; only the latest can be renewed, once. By default the renewal
    has the same length (whole months stay months) from the day after the renewed period ends, and covers what it
    covered; a later start leaves a gap of no coverage. A person names the contract `version` they saw; the tacit
    renewal job (by=None) does not."""
    if contract is None and period is None:
        raise TypeError("renew() needs a contract or a period")
    contract = _locked(contract or period.contract)
    latest = contract.periods.order_by("-ends_on", "-pk").first()
    if latest is None:
        raise DomainError(_("This contract has no period to renew."))
    renewed = latest if period is None else CoveragePeriod.objects.filter(pk=period.pk, contract=contract).first()
    if renewed is None:
        raise DomainError(_("This period is not one of the contract's."), field="period")
    if renewed.pk != latest.pk or CoveragePeriod.objects.filter(renews=renewed).exists():
        raise IllegalTransition(_("This period has been renewed already: only the latest period can be renewed."))
    if contract.cancelled:
        raise IllegalTransition(_("Notice was given on this contract on %(date)s: it is not renewed.")
                                % {"date": contract.cancelled_on.isoformat()})
    if starts_on is None:
        starts_on = renewed.ends_on + timedelta(days=1)
    if starts_on <= renewed.ends_on:
        raise DomainError(_("A renewal starts after the period it renews ends (%(date)s).")
                          % {"date": renewed.ends_on.isoformat()}, field="starts_on")
    if ends_on is None:
        ends_on = same_length(renewed.starts_on, renewed.ends_on, starting=starts_on)
    _check_dates(starts_on, ends_on)
    values = {name: getattr(renewed, name) for name in COVERS}
    values.update({name: value for name, value in covers.items() if value is not None})
    unknown = set(values) - set(COVERS)
    if unknown:
        raise TypeError(f"renew() does not know {sorted(unknown)}")
    _check_covers(values)
    # A person names the version they saw; the tacit renewal job (by=None) bumps it, so open forms see the change.
    _claim(contract, version if by is not None or version is not None else contract.version)
    return CoveragePeriod.objects.create(contract=contract, starts_on=starts_on, ends_on=ends_on, renews=renewed,
                                         created_by=by, **values)


@transaction.atomic
def cancel(*, contract: ServiceContract, by, version: int, reason: str) -> ServiceContract:
    """Record that notice was given (the customer's or ours): the contract is not renewed any more, tacitly or
    expressly; its periods keep covering until they end."""
    contract = _locked(contract)
    if contract.cancelled:
        raise IllegalTransition(_("Notice was already given on %(date)s.") % {"date": contract.cancelled_on.isoformat()})
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the contract is not renewed."), field="reason")
    _claim(contract, version)
    contract.cancelled_on, contract.cancelled_by, contract.cancel_reason = clock.today(), by, reason
    contract.save(update_fields=["cancelled_on", "cancelled_by", "cancel_reason", "updated_at"])
    return contract


@transaction.atomic
def correct_period(*, period: CoveragePeriod, by, version: int, starts_on: date, ends_on: date,
                   **covers) -> CoveragePeriod:
    """Correct a period entered wrongly (a typo in a date, what it covers). Not a renewal: a renewal is a new period.
    The period may not overlap another of its contract; a corrected end re-arms its reminders (they are keyed by the
    end date)."""
    _locked(period.contract)
    _check_dates(starts_on, ends_on)
    unknown = set(covers) - set(COVERS)
    if unknown:
        raise TypeError(f"correct_period() does not know {sorted(unknown)}")
    _check_covers(covers)
    others = CoveragePeriod.objects.filter(contract_id=period.contract_id).exclude(pk=period.pk)
    clash = others.filter(starts_on__lte=ends_on, ends_on__gte=starts_on).order_by("starts_on").first()
    if clash is not None:
        raise DomainError(_("The period would overlap the period %(period)s of this contract.") % {"period": clash},
                          field="starts_on" if clash.starts_on <= starts_on else "ends_on")
    if period.renews_id and period.renews.ends_on >= starts_on:
        raise DomainError(_("A renewal starts after the period it renews ends (%(date)s).")
                          % {"date": period.renews.ends_on.isoformat()}, field="starts_on")
    following = CoveragePeriod.objects.filter(renews=period).first()
    if following is not None and following.starts_on <= ends_on:
        raise DomainError(_("The period's renewal starts on %(date)s: it must end before.")
                          % {"date": following.starts_on.isoformat()}, field="ends_on")
    _claim(period, version)
    period.starts_on, period.ends_on = starts_on, ends_on
    for name, value in covers.items():
        if value is not None:
            setattr(period, name, value)
    period.save(update_fields=["starts_on", "ends_on", *[n for n, v in covers.items() if v is not None], "updated_at"])
    return period


def renew_due_tacit(*, today: date | None = None) -> list[CoveragePeriod]:
    """The daily job: every period that has ended, of a tacit contract on which no notice was given, is renewed for
    the same length (again, if the job was off for longer than a period). Each renewal is its own transaction; a
    period renewed meanwhile by another worker is skipped."""
    today = today or clock.today()
    renewals = []
    due = list(CoveragePeriod.objects.filter(
        ends_on__lt=today, renewed_by__isnull=True, contract__renewal=Renewal.TACIT,
        contract__cancelled_on__isnull=True).order_by("ends_on", "pk").values_list("pk", "contract_id"))
    for period_id, contract_id in due:
        period = CoveragePeriod(pk=period_id)
        while True:
            try:
                period = renew(contract=ServiceContract(pk=contract_id), period=period, by=None)
            except (IllegalTransition, DomainError):
                break  # renewed meanwhile by another worker, notice given meanwhile, or an implausible end
            renewals.append(period)
            if period.ends_on >= today:
                break
    return renewals


# ----------------------------------------------------------------------------------------- replacement (§3, repairs)

@dataclass(frozen=True)
class ReplacementOutcome:
    rule: str  # ReplacementCoverage
    contracts: tuple = field(default=())  # the contracts that now list the new device


@transaction.atomic
def cover_replacement(*, old_device, new_device, on: date, by) -> ReplacementOutcome:
    """Issue 22 §3: `new_device` (saved) replaces `old_device` on `on` and gets its own coverage periods.

    The contracts that list the old device list the new one too (a whole-project contract covers it already). Its
    warranty follows the setting of the contracts covering the old device that day (restart if any says so) —
    carry over: the old device's remaining warranty (its dates computed as the old one's); restart: a warranty of
    the project's length from `on`. Without a contract the remaining warranty is carried over."""
    _plausible(on, "on")
    rule = replacement_rule(old_device, on)
    listing = list(ServiceContract.objects.filter(whole_project=False, devices=old_device).order_by("pk"))
    for contract in listing:
        contract.devices.add(new_device)
    if rule == ReplacementCoverage.RESTART:
        new_device.warranty_start_override = on
        new_device.manufacturer_warranty_end_override = new_device.warranty_end_override = None
    else:
        new_device.warranty_start_override = old_device.warranty_start_override
        new_device.manufacturer_warranty_end_override = old_device.manufacturer_warranty_end_override
        new_device.warranty_end_override = old_device.warranty_end_override
    new_device.save(update_fields=["warranty_start_override", "manufacturer_warranty_end_override",
                                   "warranty_end_override", "updated_at"])
    return ReplacementOutcome(rule=rule, contracts=tuple(listing))


def replacement_rule(device, on: date) -> str:
    """What a unit replacing `device` on `on` gets (ReplacementCoverage): the setting of the contracts covering the
    device that day — restart if any of them says so — else carry over."""
    coverage = merge(periods_of(device, on=on), on)
    contract_ids = [p.contract_id for p in (coverage.periods if coverage else ()) if p.kind == CoverageKind.CONTRACT]
    rules = set(ServiceContract.objects.filter(pk__in=contract_ids).values_list("replacement", flat=True))
    return ReplacementCoverage.RESTART if ReplacementCoverage.RESTART in rules else ReplacementCoverage.CARRY_OVER
