"""SRQ-6: suggest engineers. Ranked by on duty now, specialty match, great-circle distance to the site, and current
load; each rank carries its reasons.

Issue 21 §11: the distance is measured from the engineer's last known position, which is their newest arrival
position (a Visit's arrival_latitude/longitude, WGS-84 like the project's), read for all candidates in one query; an
engineer with none is measured from their branch, and each suggestion says which it was."""

from dataclasses import dataclass, field
from datetime import datetime
from math import asin, cos, radians, sin, sqrt

from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils.timesince import timesince
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
    origin: str = ""                   # where distance_km is measured from: "last_seen", "branch" or "" (unknown)
    seen_at: datetime | None = None    # the last known position: when and at which project
    seen_project: str = ""
    position_note: str = ""            # says so: "last seen at … ago" / "no known position"

    def sort_key(self):
        return (not self.on_duty, not self.specialty_match,
                self.distance_km if self.distance_km is not None else float("inf"), self.load)


def rank(suggestions: list[Suggestion]) -> list[Suggestion]:
    """Pure: on duty first, then the right specialty, then the nearest, then the least loaded. The dispatch panel
    (service/_dispatch_form.html) states this rule in one sentence: change both together."""
    return sorted(suggestions, key=Suggestion.sort_key)


def last_positions(engineer_ids) -> dict[int, dict]:
    """Each engineer's newest arrival with a position, in one query whatever the number of engineers:
    {engineer_id: {"latitude", "longitude", "arrived_at", "project"}}."""
    newest = (Visit.objects.filter(engineer_id=OuterRef("pk"), arrival_latitude__isnull=False, arrived_at__isnull=False)
              .order_by("-arrived_at", "-pk").values("pk")[:1])  # looked up once per engineer, not per visit
    newest_of_each = get_user_model().objects.filter(pk__in=list(engineer_ids)).values(visit=Subquery(newest))
    rows = (Visit.objects.filter(pk__in=newest_of_each)
            .values("engineer_id", "arrival_latitude", "arrival_longitude", "arrived_at", "request__project__name"))
    return {row["engineer_id"]: {"latitude": row["arrival_latitude"], "longitude": row["arrival_longitude"],
                                 "arrived_at": row["arrived_at"], "project": row["request__project__name"]}
            for row in rows}


def suggest(request, *, at, limit: int = 10) -> list[Suggestion]:
    project = request.project
    engineers = list(
        get_user_model().objects.filter(position=Position.ENGINEER, is_active=True, customer__isnull=True)
        .filter(Q(branch_id=request.branch_id) | Q(shifts__branch_id=request.branch_id)).distinct()
        .select_related("branch")
        .annotate(load=Count("assigned_requests", filter=Q(assigned_requests__state__in=OPEN_STATES), distinct=True))
    )
    duty = {u.pk for u in on_duty(OnCallShift.objects.filter(branch_id=request.branch_id), at=at)}
    seen = last_positions(u.pk for u in engineers)
    site_known = project.latitude is not None and project.longitude is not None
    suggestions = []
    for engineer in engineers:
        reasons = [_("on duty now") if engineer.pk in duty else _("not on duty")]
        match = bool(request.specialty) and engineer.specialty == request.specialty
        if request.specialty:
            reasons.append(_("specialty matches") if match else _("other specialty: %(s)s") % {"s": engineer.get_specialty_display() or "—"})
        suggestion = Suggestion(engineer, engineer.pk in duty, match, None, engineer.load)
        last = seen.get(engineer.pk)
        origin = None
        if last is not None:
            origin, suggestion.origin = (last["latitude"], last["longitude"]), "last_seen"
            suggestion.seen_at, suggestion.seen_project = last["arrived_at"], last["project"]
            suggestion.position_note = _("last seen at %(project)s %(ago)s ago") % {
                "project": last["project"], "ago": timesince(last["arrived_at"], now=at, depth=1)}
        elif engineer.branch and engineer.branch.latitude is not None and engineer.branch.longitude is not None:
            origin, suggestion.origin = (engineer.branch.latitude, engineer.branch.longitude), "branch"
            suggestion.position_note = _("no known position; measured from the branch %(branch)s") % {
                "branch": engineer.branch.name}
        else:
            suggestion.position_note = _("no known position")
        if origin is not None and site_known:
            suggestion.distance_km = round(great_circle_m(origin[0], origin[1], project.latitude, project.longitude) / 1000, 1)
            reasons.append(_("%(km)s km from the site (%(origin)s)") % {"km": suggestion.distance_km,
                                                                       "origin": suggestion.position_note})
        elif origin is not None:
            reasons.append(_("%(origin)s; the site has no coordinates") % {"origin": suggestion.position_note})
        else:
            reasons.append(suggestion.position_note)
        reasons.append(_("%(n)s open requests") % {"n": engineer.load})
        suggestion.reasons = reasons
        suggestions.append(suggestion)
    return rank(suggestions)[:limit]


def great_circle_m(lat1, lon1, lat2, lon2) -> float:
    """Haversine distance in metres."""
    lat1, lon1, lat2, lon2 = (radians(float(v)) for v in (lat1, lon1, lat2, lon2))
    a = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * asin(sqrt(a))
