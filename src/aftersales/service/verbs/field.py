"""The engineer's verbs on site (SRQ-6): depart, arrive with proof, leave.

Depart, arrive and leave take no version: the state machine guards them (a second tap is an IllegalTransition),
and nothing a colleague typed can be overwritten by them."""

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition

from .. import attachments
from ..clock import meet, recompute, start_targets
from ..dispatching import great_circle_m
from ..models import EventKind, ServiceRequest, State, TargetKind, TargetStart, Visit
from ..timeline import lock_request, move, record

FAR_FROM_SITE_M = 1000  # an arrival position further than this from the site is flagged


def _current_visit(request, engineer) -> Visit:
    visit = request.visits.filter(engineer=engineer, left_at__isnull=True).order_by("-pk").first()
    if visit is None:
        raise IllegalTransition(_("You are not dispatched to this request."))
    return visit


@transaction.atomic
def depart(*, request, by) -> ServiceRequest:
    request = lock_request(request)
    visit = _current_visit(request, by)
    now = clock.now()
    move(request, State.EN_ROUTE)
    request.save(update_fields=["state", "updated_at"])
    visit.departed_at = now
    visit.save(update_fields=["departed_at"])
    meet(request, TargetKind.DEPARTURE, now)
    recompute(request, now=now)
    record(request, EventKind.DEPARTED, actor=by, at=now)
    return request


def arrive(*, request, by, latitude=None, longitude=None, accuracy_m=None, photo=None,
           confirmed_by_customer: bool = False) -> ServiceRequest:
    """SRQ-6: arrival carries proof: a position, a photo (an upload, stored by this verb), or the customer's
    confirmation."""
    if latitude is None and photo is None and not confirmed_by_customer:
        raise DomainError(_("Arrival needs proof: allow the position, add a photo or have the customer confirm."))
    with attachments.atomic_with_files() as stored:
        request = lock_request(request)
        visit = _current_visit(request, by)
        now = clock.now()
        move(request, State.ON_SITE)
        request.save(update_fields=["state", "updated_at"])
        visit.arrived_at = now
        data = {}
        if latitude is not None and longitude is not None:
            visit.arrival_latitude = Decimal(str(latitude)).quantize(Decimal("0.000001"))
            visit.arrival_longitude = Decimal(str(longitude)).quantize(Decimal("0.000001"))
            visit.arrival_accuracy_m = int(accuracy_m) if accuracy_m is not None else None
            visit.arrival_proof = "position"
            project = request.project
            if project.latitude is not None and project.longitude is not None:
                visit.arrival_distance_m = round(great_circle_m(latitude, longitude, project.latitude, project.longitude))
                data = {"distance_m": visit.arrival_distance_m, "far": visit.arrival_distance_m > FAR_FROM_SITE_M}
            data |= {"latitude": float(latitude), "longitude": float(longitude), "accuracy_m": visit.arrival_accuracy_m}
        elif photo is not None:
            stored.append(attachments.store(request, photo, by=by))
            visit.arrival_proof, visit.arrival_photo = "photo", stored[-1]
            data = {"photo": stored[-1].pk}
        else:
            visit.arrival_proof = "customer"
        data["proof"] = visit.arrival_proof
        visit.save()
        meet(request, TargetKind.DEPARTURE, now)
        meet(request, TargetKind.ARRIVAL, now)
        start_targets(request, event=TargetStart.ARRIVED, at=now)
        recompute(request, now=now)
        record(request, EventKind.ARRIVED, actor=by, at=now, **data)
    return request


@transaction.atomic
def leave(*, request, by) -> Visit:
    """The engineer leaves the site; time on site is recorded."""
    request = lock_request(request)
    visit = request.visits.filter(engineer=by, arrived_at__isnull=False, left_at__isnull=True).order_by("-pk").first()
    if visit is None:
        raise IllegalTransition(_("You are not on site for this request."))
    now = clock.now()
    visit.left_at = now
    visit.save(update_fields=["left_at"])
    minutes = round((now - visit.arrived_at).total_seconds() / 60)
    record(request, EventKind.LEFT, actor=by, at=now, minutes_on_site=minutes)
    return visit
