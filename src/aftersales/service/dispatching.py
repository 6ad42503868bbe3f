"""SRQ-6: suggest engineers. Ranked by on duty now, specialty match, great-circle distance from their
base (branch) or last reported position to the site, and current load; each rank carries its reasons."""

from dataclasses import dataclass, field
from math import asin, cos, radians, sin, sqrt

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from aftersales.accounts.models import OnCallShift, Position
from aftersales.accounts.selectors import on_duty

from .models import OPEN_STATES, Visit


@dataclass
class Suggestion:
    engineer: object
    on_duty: bool
    specialty_match: bool
    distance_km: float | None
    load: int
    reasons: list[str] = field(default_factory=list)

    def sort_key(self):
        return (not self.on_duty, not self.specialty_match,
                self.distance_km if self.distance_km is not None else float("inf"), self.load)


def rank(suggestions: list[Suggestion]) -> list[Suggestion]:
    """Pure: on duty first, then the right specialty, then the nearest, then the least loaded."""
    return sorted(suggestions, key=Suggestion.sort_key)


def suggest(request, *, at, limit: int = 10) -> list[Suggestion]:
    project = request.project
    engineers = list(
        get_user_model().objects.filter(position=Position.ENGINEER, is_active=True, customer__isnull=True)
        .filter(Q(branch_id=request.branch_id) | Q(shifts__branch_id=request.branch_id)).distinct()
        .select_related("branch")
        .annotate(load=Count("assigned_requests", filter=Q(assigned_requests__state__in=OPEN_STATES), distinct=True))
    )
    duty = {u.pk for u in on_duty(OnCallShift.objects.filter(branch_id=request.branch_id), at=at)}
    last_positions = {}
    for visit in (Visit.objects.filter(engineer__in=engineers, arrival_latitude__isnull=False)
                  .order_by("engineer_id", "-arrived_at").values("engineer_id", "arrival_latitude", "arrival_longitude")):
        last_positions.setdefault(visit["engineer_id"], (visit["arrival_latitude"], visit["arrival_longitude"]))
    suggestions = []
    for engineer in engineers:
        reasons = [_("on duty now") if engineer.pk in duty else _("not on duty")]
        match = bool(request.specialty) and engineer.specialty == request.specialty
        if request.specialty:
            reasons.append(_("specialty matches") if match else _("other specialty: %(s)s") % {"s": engineer.get_specialty_display() or "—"})
        distance = None
        origin, origin_label = last_positions.get(engineer.pk), _("last reported position")
        if origin is None and engineer.branch and engineer.branch.latitude is not None:
            origin, origin_label = (engineer.branch.latitude, engineer.branch.longitude), _("branch")
        if origin and project.latitude is not None and project.longitude is not None:
            distance = round(great_circle_m(origin[0], origin[1], project.latitude, project.longitude) / 1000, 1)
            reasons.append(_("%(km)s km from the site (%(origin)s)") % {"km": distance, "origin": origin_label})
        reasons.append(_("%(n)s open requests") % {"n": engineer.load})
        suggestions.append(Suggestion(engineer, engineer.pk in duty, match, distance, engineer.load, reasons))
    return rank(suggestions)[:limit]


def great_circle_m(lat1, lon1, lat2, lon2) -> float:
    """Haversine distance in metres."""
    lat1, lon1, lat2, lon2 = (radians(float(v)) for v in (lat1, lon1, lat2, lon2))
    a = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * asin(sqrt(a))
