"""Reads of contracts; scoped by the caller (core.scoping.visible)."""

from datetime import date, timedelta

from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery

from aftersales.core.clock import today as today_in_shanghai

from .models import CoveragePeriod, ServiceContract


def with_terms(queryset: QuerySet, *, on: date | None = None) -> QuerySet:
    """Contracts with their latest period's dates, whether a period covers `on` (today) and how many devices they
    list, as columns of the one query (a list page costs the same for 5 or 500 contracts)."""
    on = on or today_in_shanghai()
    latest = CoveragePeriod.objects.filter(contract=OuterRef("pk")).order_by("-ends_on", "-pk")
    listed = (ServiceContract.devices.through.objects.filter(servicecontract_id=OuterRef("pk"))
              .order_by().values("servicecontract_id").annotate(n=Count("pk")).values("n"))
    return queryset.annotate(
        latest_starts_on=Subquery(latest.values("starts_on")[:1]),
        latest_ends_on=Subquery(latest.values("ends_on")[:1]),
        covered_today=Exists(CoveragePeriod.objects.filter(contract=OuterRef("pk"), starts_on__lte=on, ends_on__gte=on)),
        listed_devices=Subquery(listed),
    )


def ending_within(queryset: QuerySet, days: int, *, on: date | None = None) -> QuerySet:
    """Contracts whose latest period (not renewed yet) ends within `days` days from `on` (today)."""
    on = on or today_in_shanghai()
    ending = CoveragePeriod.objects.filter(contract=OuterRef("pk"), renewed_by__isnull=True, ends_on__gte=on,
                                           ends_on__lte=on + timedelta(days=days))
    return queryset.filter(Exists(ending))


def periods_ending_within(queryset: QuerySet, days: int, *, on: date | None = None) -> QuerySet:
    on = on or today_in_shanghai()
    return queryset.filter(renewed_by__isnull=True, ends_on__gte=on, ends_on__lte=on + timedelta(days=days))


def contract_periods(contract: ServiceContract) -> list[CoveragePeriod]:
    """A contract's periods, oldest first, with who created them and the reminders sent for each (two queries)."""
    periods = list(contract.periods.select_related("created_by", "renews").prefetch_related("reminders")
                   .order_by("starts_on", "pk"))
    return periods


def state_of(contract: ServiceContract, on: date) -> str:
    """active / not_started / gap / ended — from the annotated columns of with_terms."""
    if contract.covered_today:
        return "active"
    if contract.latest_ends_on is None or contract.latest_ends_on < on:
        return "ended"
    if contract.latest_starts_on is not None and contract.latest_starts_on > on:
        return "not_started"
    return "gap"
