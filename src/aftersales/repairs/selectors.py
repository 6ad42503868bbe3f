"""Reads of repair cases, RMAs and loans; every one goes through `visible()` (SEC-1) and owns its joins and order."""

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from aftersales.assets.models import Device
from aftersales.core import clock
from aftersales.core.scoping import visible
from aftersales.parts.models import Movement

from .models import (
    OPEN_STATES,
    DeviceReplacement,
    Loan,
    RepairCase,
    RepairState,
    RepairStep,
    VendorRma,
)


def overdue_rma_q(today) -> Q:
    return Q(returned_on__isnull=True, expected_back_on__lt=today)


def overdue_loan_q(today) -> Q:
    return Q(returned_at__isnull=True, due_back_on__lt=today)


def with_overdue_flags(cases: QuerySet, today) -> QuerySet:
    """Each case knows whether its RMA or its loan is overdue (two EXISTS in the same query: no query per row)."""
    return cases.annotate(
        rma_overdue=Exists(VendorRma.objects.filter(overdue_rma_q(today), case=OuterRef("pk"))),
        loan_overdue=Exists(Loan.objects.filter(overdue_loan_q(today), case=OuterRef("pk"))),
        loan_out=Exists(Loan.objects.filter(returned_at__isnull=True, case=OuterRef("pk"))),
    )


def cases_for(user) -> QuerySet:
    """The cases `user` may see, with what a list row shows joined."""
    return visible(RepairCase.objects.select_related("device", "customer", "service_request", "replaced_by"), user)


def board_cases(user, *, today=None) -> QuerySet:
    today = today or clock.today()
    return with_overdue_flags(cases_for(user), today)


def state_counts(user) -> dict[str, int]:
    """How many of the user's cases are in each state (one GROUP BY)."""
    rows = visible(RepairCase.objects.all(), user).values("state").annotate(n=Count("pk")).order_by()
    counts = {state: 0 for state in RepairState.values}
    counts.update({row["state"]: row["n"] for row in rows})
    return counts


def overdue_counts(user, *, today=None) -> dict[str, int]:
    """RMAs overdue from the manufacturer and loans overdue from the customer, of the user's cases (one query each)."""
    today = today or clock.today()
    return {
        "rmas": visible(VendorRma.objects.filter(overdue_rma_q(today)), user).count(),
        "loans": visible(Loan.objects.filter(overdue_loan_q(today)), user).count(),
    }


def steps_prefetch() -> Prefetch:
    return Prefetch("steps", queryset=RepairStep.objects.select_related("actor").order_by("at", "pk"))


def case_page(user, pk) -> RepairCase:
    """One case with everything its page shows: steps (and who took them), RMAs, loans, replacements."""
    return visible(RepairCase.objects.select_related(
        "device__project", "device__manufacturer", "device__category", "customer", "service_request", "replaced_by",
        "opened_by",
    ).prefetch_related(
        steps_prefetch(),
        Prefetch("rmas", queryset=VendorRma.objects.select_related("manufacturer", "sent_by", "received_by").order_by("pk")),
        Prefetch("loans", queryset=Loan.objects.select_related("lent_by", "returned_by").order_by("pk")),
        Prefetch("replacements", queryset=DeviceReplacement.objects.select_related("old", "new", "by").order_by("at", "pk")),
        Prefetch("part_movements", queryset=Movement.objects.select_related("part", "location").order_by("pk")),
    ), user).get(pk=pk)


def device_history(user, device) -> dict:
    """§2/§3: every repair case of a device with its steps (the case that installed it as a replacement too), and
    the replacement links both ways (three queries)."""
    links = list(visible(DeviceReplacement.objects.filter(Q(old=device) | Q(new=device)), user)
                 .select_related("old", "new"))
    replaced_by = next((link for link in links if link.old_id == device.pk), None)
    replaces = next((link for link in links if link.new_id == device.pk), None)
    wanted = Q(device=device) | (Q(pk=replaces.case_id) if replaces else Q(pk__in=[]))
    cases = list(visible(RepairCase.objects.filter(wanted), user)
                 .select_related("device", "replaced_by").prefetch_related(steps_prefetch()).order_by("-opened_at", "-pk"))
    return {"cases": cases, "replaced_by": replaced_by, "replaces": replaces}


def request_repairs(user, service_request) -> list[RepairCase]:
    """The repair cases opened from a service request, with their loans (SRQ-5: the contingency names the loan)."""
    return list(with_overdue_flags(visible(RepairCase.objects.filter(service_request=service_request), user), clock.today())
                .select_related("device")
                .prefetch_related(Prefetch("loans", queryset=Loan.objects.order_by("pk")))
                .order_by("-pk"))


def loans_for(user) -> QuerySet:
    return visible(Loan.objects.select_related("case__device", "case__customer", "lent_by"), user)


def rmas_for(user) -> QuerySet:
    return visible(VendorRma.objects.select_related("case__device", "case__customer", "manufacturer"), user)


def devices_for_case(user, *, service_request=None, device=None) -> QuerySet:
    """The devices a case may be opened on: the one device given, or the request's project's (its own first)."""
    devices = visible(Device.objects.select_related("project"), user)
    if device is not None:
        return devices.filter(pk=device.pk)
    if service_request is not None:
        return devices.filter(project_id=service_request.project_id).order_by("name", "pk")
    return devices.none()


def open_case_of(device) -> RepairCase | None:
    return RepairCase.objects.filter(device=device, state__in=OPEN_STATES).first()
