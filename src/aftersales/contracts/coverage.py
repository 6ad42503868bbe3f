"""CUS-4: "is this device covered on day D, and for what?" — pure arithmetic first, then the one selector.

The pure part knows no ORM and no clock: periods in, an answer out. A device's two warranty periods come from the
dates assets stores on it (`warranty_periods`), its contract periods from the rows of the contracts that cover it
(whole project, or the device listed); `merge` answers for a day. `coverage_on(device, day)` puts them together
with one query.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from aftersales.assets.warranty import add_months

from .models import REMINDER_OFFSETS, TIER_STRENGTH, CoverageKind


@dataclass(frozen=True)
class Period:
    """One period of coverage, inclusive of both dates. `starts_on` None: from the beginning (a warranty whose start
    is unknown but whose end is set, as assets.warranty.status_on reads it)."""

    kind: str
    starts_on: date | None
    ends_on: date
    parts: bool = True
    labour: bool = True
    onsite: bool = True
    response_tier: str = ""
    contract_id: int | None = None
    contract_number: str = ""
    period_id: int | None = None

    def covers(self, day: date) -> bool:
        return (self.starts_on is None or self.starts_on <= day) and day <= self.ends_on


@dataclass(frozen=True)
class Coverage:
    """What covers a device on `day`: the periods, and the union of what they cover."""

    day: date
    periods: tuple[Period, ...]
    parts: bool
    labour: bool
    onsite: bool
    response_tier: str  # the strongest tier among the periods; "" when none states one


def merge(periods: Iterable[Period], day: date) -> Coverage | None:
    """The periods that cover `day`, merged: each service is covered if any of them covers it. None: not covered."""
    covering = tuple(sorted((p for p in periods if p.covers(day)), key=_order))
    if not covering:
        return None
    tiers = [p.response_tier for p in covering if p.response_tier]
    return Coverage(
        day=day, periods=covering,
        parts=any(p.parts for p in covering), labour=any(p.labour for p in covering),
        onsite=any(p.onsite for p in covering),
        response_tier=min(tiers, key=lambda tier: TIER_STRENGTH.get(tier, len(TIER_STRENGTH))) if tiers else "",
    )


def _order(period: Period):
    return (period.starts_on or date.min, period.ends_on, period.kind, period.period_id or 0)


def ordered(periods: Iterable[Period]) -> list[Period]:
    return sorted(periods, key=_order)


def warranty_periods(*, start: date | None, manufacturer_end: date | None, warranty_end: date | None) -> list[Period]:
    """The device's warranty as periods, from its stored dates (assets/warranty.py derives them): the manufacturer's
    through `manufacturer_end`, the integrator's extension from the day after through `warranty_end`. Both cover
    parts, labour and on-site service: the seed's free repair and replacement during the warranty."""
    if warranty_end is None:
        return []  # no acceptance date and no override: unknown, covered by nothing we can date
    periods = []
    if manufacturer_end is not None and (start is None or start <= manufacturer_end):
        periods.append(Period(CoverageKind.MANUFACTURER, start, manufacturer_end))
    extension_start = manufacturer_end + timedelta(days=1) if manufacturer_end is not None else start
    if manufacturer_end is None or warranty_end > manufacturer_end:
        if start is not None and extension_start < start:
            extension_start = start
        if extension_start is None or extension_start <= warranty_end:
            periods.append(Period(CoverageKind.INTEGRATOR, extension_start, warranty_end))
    return periods


def whole_months(starts_on: date, ends_on: date) -> int | None:
    """How many months the period lasts when it is whole months (2025-08-29 – 2026-08-28: 12), else None."""
    months = (ends_on.year - starts_on.year) * 12 + ends_on.month - starts_on.month
    for candidate in (months, months + 1):
        if candidate > 0 and add_months(starts_on, candidate) - timedelta(days=1) == ends_on:
            return candidate
    return None


def same_length(starts_on: date, ends_on: date, *, starting: date) -> date:
    """The end of a period `starting` on a day that lasts as long as `starts_on` – `ends_on`: whole months stay whole
    months (a year renews as a year, also across 29 February), any other length is kept in days."""
    months = whole_months(starts_on, ends_on)
    if months is not None:
        return add_months(starting, months) - timedelta(days=1)
    return starting + (ends_on - starts_on)


def next_period(starts_on: date, ends_on: date) -> tuple[date, date]:
    """The tacit renewal of a period: the same length, from the day after it ends."""
    start = ends_on + timedelta(days=1)
    return start, same_length(starts_on, ends_on, starting=start)


def due_offset(ends_on: date, today: date) -> int | None:
    """The reminder due today for a period ending on `ends_on`: the nearest of 90, 30 and 7 days whose day has come
    (a period first seen 20 days before its end gets the 30-day one, not a late 90-day one); None once it has ended
    or while it is more than 90 days away."""
    days_left = (ends_on - today).days
    if days_left < 0:
        return None
    due = [offset for offset in REMINDER_OFFSETS if days_left <= offset]
    return min(due) if due else None


def notice_deadline(ends_on: date, notice_days: int) -> date:
    """The last day notice can be given to stop a period's renewal — counted from THIS period's end, so a tacitly
    renewed contract's notice follows its renewal (GLPI #23084 counts from the initial end date)."""
    return ends_on - timedelta(days=notice_days)


# --------------------------------------------------------------------------------------------------- the selector


def contract_periods(device):
    """The periods of every contract that covers `device`: its project's whole-project contracts and the contracts
    that list it. Unscoped (the caller has the device already); the contract read with each."""
    from django.db.models import Q

    from .models import CoveragePeriod, ServiceContract

    listing = ServiceContract.devices.through.objects.filter(device_id=device.pk).values("servicecontract_id")
    return (CoveragePeriod.objects
            .filter(Q(contract__whole_project=True, contract__project_id=device.project_id)
                    | Q(contract__whole_project=False, contract_id__in=listing))
            .select_related("contract").order_by("starts_on", "pk"))


def as_period(row) -> Period:
    return Period(CoverageKind.CONTRACT, row.starts_on, row.ends_on, row.covers_parts, row.covers_labour,
                  row.covers_onsite, row.response_tier, row.contract_id, row.contract.number, row.pk)


def device_warranty_periods(device) -> list[Period]:
    return warranty_periods(start=device.warranty_start, manufacturer_end=device.manufacturer_warranty_end,
                            warranty_end=device.warranty_end)


def periods_of(device, *, on: date | None = None) -> list[Period]:
    """Every period that covers `device` (only those covering `on` when given), oldest first: one query."""
    rows = contract_periods(device)
    if on is not None:
        rows = rows.filter(starts_on__lte=on, ends_on__gte=on)
    return ordered([*device_warranty_periods(device), *(as_period(row) for row in rows)])


def coverage_on(device, day: date) -> Coverage | None:
    """CUS-4: what covers `device` on `day` — its periods and the union of what they cover — or None."""
    return merge(periods_of(device, on=day), day)
