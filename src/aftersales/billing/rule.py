"""CUS-5, the billing rule, as one pure function (no ORM, no clock): what a customer owes for a work order or a repair,
and what the integrator's own cost was, from the coverage on the day of the fault.

The seed: free repair and replacement while the device is covered ("对故障设备负责免费维修，对不能修复的设备负责免费
更换"); after that, original spare parts at their purchase cost only, never a service or labour fee ("更换原厂备件只收
采购成本费，免收服务及人工费用"). So:

* covered on the fault's day (for that kind of line: a period may cover parts but not on-site service): the customer
  pays nothing for the line;
* not covered: a part costs the customer the purchase cost recorded by the stock movement that issued it (never a
  list price); labour and on-site service stay at zero, written out as lines so the sheet says so;
* the integrator's own cost is on every line whoever pays (parts at purchase cost, labour at the internal hourly
  cost), so the cost of warranty work per customer and model can be reported;
* a manager's exception (goodwill, or a charge the rule does not make) is a line of its own with its reason and who
  approved it, never an edited line.

Money is Decimal, rounded half up to the fen.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


class LineKind(StrEnum):
    PART = "part"
    LABOUR = "labour"
    ONSITE = "onsite"
    EXCEPTION = "exception"


class Basis(StrEnum):
    """Why a line costs the customer what it costs (the pages word it)."""

    COVERED = "covered"  # covered on the fault's day: free
    PURCHASE_COST = "purchase_cost"  # after coverage: the part at its purchase cost
    NO_LABOUR_FEE = "no_labour_fee"  # after coverage: labour is never charged
    NO_SERVICE_FEE = "no_service_fee"  # after coverage: on-site service is never charged
    EXCEPTION = "exception"  # a manager's exception


@dataclass(frozen=True)
class Coverage:
    """What covered the device on the fault's day (None for a line kind: not covered). `label` names the period, e.g.
    原厂保修 or a contract number; `ends` its last day."""

    parts: bool
    labour: bool
    onsite: bool
    label: str = ""
    ends: date | None = None


@dataclass(frozen=True)
class PartUsed:
    name: str
    quantity: int
    unit_cost: Decimal  # the purchase cost of the movement that issued it
    reference: str = ""  # the movement, for the record


@dataclass(frozen=True)
class ManagerException:
    amount: Decimal  # negative: a discount; positive: a charge the rule does not make
    reason: str
    approved_by: str


@dataclass(frozen=True)
class Line:
    kind: LineKind
    description: str
    quantity: Decimal
    customer_amount: Decimal
    integrator_cost: Decimal
    covered: bool
    basis: Basis
    reference: str = ""  # the stock movement of a part; who approved an exception


@dataclass(frozen=True)
class ChargeSheet:
    fault_day: date
    coverage: Coverage | None
    lines: tuple[Line, ...] = field(default_factory=tuple)

    @property
    def customer_total(self) -> Decimal:
        return money(sum((line.customer_amount for line in self.lines), ZERO))

    @property
    def integrator_total(self) -> Decimal:
        return money(sum((line.integrator_cost for line in self.lines), ZERO))


class BillingError(ValueError):
    pass


def money(amount) -> Decimal:
    return Decimal(amount).quantize(FEN, rounding=ROUND_HALF_UP)


def charge_sheet(*, fault_day: date, coverage: Coverage | None, parts: list[PartUsed] = (), labour_minutes: int = 0,
                 onsite_visits: int = 0, labour_cost_per_hour: Decimal = ZERO, onsite_cost_per_visit: Decimal = ZERO,
                 exceptions: list[ManagerException] = ()) -> ChargeSheet:
    """The charge sheet of one work order or repair (module docstring). `coverage`: what covered the device on
    `fault_day`, None when nothing did."""
    if labour_minutes < 0 or onsite_visits < 0:
        raise BillingError("labour minutes and on-site visits cannot be negative")
    lines = []
    for part in parts:
        if part.quantity <= 0 or part.unit_cost < 0:
            raise BillingError(f"part {part.name!r}: quantity must be positive and cost not negative")
        covered = bool(coverage and coverage.parts)
        cost = money(part.unit_cost * part.quantity)
        lines.append(Line(LineKind.PART, part.name, Decimal(part.quantity), ZERO if covered else cost, cost, covered,
                          Basis.COVERED if covered else Basis.PURCHASE_COST, part.reference))
    if labour_minutes:
        covered = bool(coverage and coverage.labour)
        lines.append(Line(LineKind.LABOUR, "labour", Decimal(labour_minutes), ZERO,
                          money(labour_cost_per_hour * labour_minutes / 60), covered,
                          Basis.COVERED if covered else Basis.NO_LABOUR_FEE))
    if onsite_visits:
        covered = bool(coverage and coverage.onsite)
        lines.append(Line(LineKind.ONSITE, "on-site service", Decimal(onsite_visits), ZERO,
                          money(onsite_cost_per_visit * onsite_visits), covered,
                          Basis.COVERED if covered else Basis.NO_SERVICE_FEE))
    for exception in exceptions:
        if not exception.reason.strip() or not exception.approved_by.strip():
            raise BillingError("an exception needs a reason and who approved it")
        lines.append(Line(LineKind.EXCEPTION, exception.reason, Decimal(1), money(exception.amount), ZERO, False,
                          Basis.EXCEPTION, exception.approved_by))
    sheet = ChargeSheet(fault_day=fault_day, coverage=coverage, lines=tuple(lines))
    if sheet.customer_total < 0:
        raise BillingError("exceptions cannot make the customer's total negative")
    return sheet

