"""CUS-4: pure warranty arithmetic. No ORM, no clock.

Periods are inclusive of their end date: accepted 2024-03-15 with 24 + 12 months gives manufacturer
warranty through 2026-03-14 and the integrator's extension through 2027-03-14.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class WarrantyState(StrEnum):
    NOT_STARTED = "not_started"  # the project is not accepted yet
    MANUFACTURER = "manufacturer"  # 原厂保修
    INTEGRATOR = "integrator"  # 集成商延保
    EXPIRED = "expired"  # 过保
    UNKNOWN = "unknown"  # no acceptance date and no override


@dataclass(frozen=True)
class WarrantyPeriods:
    start: date | None
    manufacturer_end: date | None
    warranty_end: date | None  # end of the whole warranty (manufacturer + integrator)


@dataclass(frozen=True)
class WarrantyStatus:
    state: WarrantyState
    manufacturer_end: date | None
    warranty_end: date | None

    @property
    def in_warranty(self) -> bool:
        return self.state in (WarrantyState.MANUFACTURER, WarrantyState.INTEGRATOR)


def add_months(day: date, months: int) -> date:
    """Same day `months` later, clamped to the month's last day (Jan 31 + 1 month = Feb 28/29)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def periods(
    *,
    start: date | None,
    manufacturer_months: int,
    integrator_months: int,
    manufacturer_end_override: date | None = None,
    warranty_end_override: date | None = None,
) -> WarrantyPeriods:
    """The device's warranty periods from the project's defaults and the device's overrides."""
    manufacturer_end = manufacturer_end_override
    if manufacturer_end is None and start is not None:
        manufacturer_end = add_months(start, manufacturer_months) - timedelta(days=1)
    warranty_end = warranty_end_override
    if warranty_end is None and start is not None:
        warranty_end = add_months(start, manufacturer_months + integrator_months) - timedelta(days=1)
    if warranty_end is None and manufacturer_end is not None:
        warranty_end = manufacturer_end
    if manufacturer_end is not None and warranty_end is not None and manufacturer_end > warranty_end:
        manufacturer_end = warranty_end
    return WarrantyPeriods(start=start, manufacturer_end=manufacturer_end, warranty_end=warranty_end)


def status_on(p: WarrantyPeriods, on: date) -> WarrantyStatus:
    """The warranty state on date `on`."""
    if p.warranty_end is None:
        state = WarrantyState.UNKNOWN
    elif p.start is not None and on < p.start:
        state = WarrantyState.NOT_STARTED
    elif p.manufacturer_end is not None and on <= p.manufacturer_end:
        state = WarrantyState.MANUFACTURER
    elif on <= p.warranty_end:
        state = WarrantyState.INTEGRATOR
    else:
        state = WarrantyState.EXPIRED
    return WarrantyStatus(state=state, manufacturer_end=p.manufacturer_end, warranty_end=p.warranty_end)
