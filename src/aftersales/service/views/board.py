"""Issue 21 §10: the dispatch board (派工看板) of the desk. One line per engineer of the branch, one column per day
from today: on-call shifts, open assignments with their state and countdown, appointments; who is free now and who
is on call tonight. Each waiting request (new or replied, nobody assigned) has a form that dispatches it to an
engineer of the board through the dispatch verb, with the version the desk saw.

A fixed number of queries whatever the number of engineers and requests: the visible branches, the engineers,
their shifts, their open requests, the waiting requests (service/board.py lays them out, without queries).
"""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db.models import F, Min, OuterRef, Subquery
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View

from aftersales.accounts.models import (
    DISPLAY_NAME_FIELDS,
    Branch,
    OnCallShift,
    Position,
    Weekday,
    display_name,
)
from aftersales.accounts.selectors import as_shift
from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.core.scoping import get_visible_or_404, visible
from aftersales.core.views import ScopedMixin

from .. import board, verbs
from ..forms import VersionForm
from ..models import OPEN_STATES, ServiceRequest, State, Target, TargetKind
from ..templatetags.service_tags import (
    Countdowns,
    open_risk,
    priority_class,
    state_class,
)
from .common import error_status, request_queryset

WAITING_STATES = (State.NEW, State.REPLIED)
WAITING_LIMIT = 50  # the most urgent; the rest are in the desk queue
ASSIGNMENTS_LIMIT = 1000  # a guard: a branch's open assignments are far fewer

STATUS_WORDS = {
    board.FREE: gettext_lazy("free now"), board.ON_SITE: gettext_lazy("on site now"),
    board.EN_ROUTE: gettext_lazy("en route now"),
}
STATUS_CLASS = {board.FREE: "success", board.ON_SITE: "danger", board.EN_ROUTE: "warning", board.BUSY: "info"}

COLUMNS = ("pk", "number", "title", "state", "priority", "next_due_at", "scheduled_for", "paused", "due_provisional",
           "customer__name", "project__name")


def earliest_of_running_targets(column: str) -> Subquery:
    running = Target.objects.filter(request=OuterRef("pk"), started_at__isnull=False, met_at__isnull=True)
    return Subquery(running.order_by().values("request").annotate(earliest=Min(column)).values("earliest"))


def agreed_arrival() -> Subquery:
    """The appointment agreed for the arrival (a general request's on-site visit, issue 21 §1), while not met."""
    arrival = Target.objects.filter(request=OuterRef("pk"), kind=TargetKind.ARRIVAL, met_at__isnull=True,
                                    appointed_at__isnull=False)
    return Subquery(arrival.order_by().values("appointed_at")[:1])


def request_rows(queryset, *more):
    return queryset.values(*COLUMNS, *more, first_due=earliest_of_running_targets("due_at"),
                           first_warn=earliest_of_running_targets("warn_at"), appointed_at=agreed_arrival())


def engineers_of(user, branch_id):
    return visible(get_user_model().objects.filter(
        branch_id=branch_id, position=Position.ENGINEER, is_active=True, customer__isnull=True), user)


class AssignForm(VersionForm):
    """Dispatch one waiting request to one engineer of its branch (the board's rows)."""

    request = forms.IntegerField(widget=forms.HiddenInput)
    engineer = forms.ModelChoiceField(label=gettext_lazy("Engineer"), queryset=get_user_model().objects.none(),
                                      error_messages={"required": gettext_lazy("Choose an engineer."),
                                                      "invalid_choice": gettext_lazy("Choose an engineer of the board.")})

    def __init__(self, *args, engineers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["engineer"].queryset = engineers


class DispatchBoard(ScopedMixin, View):
    model = ServiceRequest
    permission_required = "service.handle_request"

    def get(self, request):
        return self.render(request.GET.get("branch"))

    def post(self, request):
        """Assign a waiting request from the board: the dispatch verb decides (a stale version is a 409)."""
        try:
            pk = int(request.POST.get("request", ""))
        except ValueError:
            pk = 0
        target = get_visible_or_404(request_queryset(), request.user, pk=pk)
        form = AssignForm(request.POST, engineers=engineers_of(request.user, target.branch_id))
        status = 422
        if form.is_valid():
            try:
                verbs.dispatch(request=target, by=request.user, version=form.cleaned_data["version"],
                               engineer=form.cleaned_data["engineer"])
            except (IllegalTransition, StaleObject) as error:
                status = 409
                form.add_error(None, error.message)
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _("%(number)s is dispatched to %(name)s.") % {
                    "number": target.number, "name": form.cleaned_data["engineer"].display_name})
                return redirect(f"{reverse('service:board')}?branch={target.branch_id}")
        failed = {"pk": target.pk, "errors": [str(e) for errors in form.errors.values() for e in errors],
                  "engineer": request.POST.get("engineer", "")}
        return self.render(str(target.branch_id), failed=failed, status=error_status(request, status))

    def render(self, wanted_branch, *, failed=None, status=200):
        user, now = self.request.user, clock.now()
        branches = list(visible(Branch.objects.order_by("name", "pk").only("pk", "name"), user))
        branch = next((b for b in branches if str(b.pk) == wanted_branch), None) or next(
            (b for b in branches if b.pk == user.branch_id), None) or (branches[0] if branches else None)
        context = {"branches": branches, "branch": branch, "now": now, "failed_pk": failed and failed["pk"]}
        if branch is None:
            return render(self.request, "service/board.html", {**context, "board": None, "waiting": []}, status=status)

        engineers_qs = engineers_of(user, branch.pk)
        engineers = [board.Engineer(row["pk"], display_name(*(row[f] for f in DISPLAY_NAME_FIELDS)), row["phone"])
                     for row in engineers_qs.order_by("full_name", "username", "pk").values("pk", "phone", *DISPLAY_NAME_FIELDS)]
        shifts = [board.EngineerShift(shift.user_id, as_shift(shift)) for shift in visible(
            OnCallShift.objects.filter(branch_id=branch.pk, user_id__in=engineers_qs.values("pk")), user)
            .only("user_id", "weekday", "start_time", "end_time", "valid_from", "valid_until")]
        open_requests = visible(ServiceRequest.objects.filter(
            branch_id=branch.pk, state__in=OPEN_STATES, assignee_id__in=engineers_qs.values("pk")), user)
        countdowns = Countdowns(now)
        assignments = []
        for row in request_rows(open_requests, "assignee_id").order_by(
                F("next_due_at").asc(nulls_last=True), "pk")[:ASSIGNMENTS_LIMIT]:
            assignments.append(board.Assignment(
                pk=row["pk"], number=row["number"], title=row["title"], state=row["state"], priority=row["priority"],
                assignee_id=row["assignee_id"], next_due_at=row["next_due_at"], scheduled_for=row["scheduled_for"],
                appointed_at=row["appointed_at"], extra=self.shown(row, countdowns, now)))
        grid = board.build(engineers=engineers, shifts=shifts, assignments=assignments, now=now)
        for line in grid.lines:
            line.status_text = (STATUS_WORDS[line.status] if line.status in STATUS_WORDS else ngettext(
                "%(n)s open", "%(n)s open", line.open_count) % {"n": line.open_count})
            line.status_class = STATUS_CLASS[line.status]
        waiting_qs = visible(ServiceRequest.objects.filter(
            branch_id=branch.pk, state__in=WAITING_STATES, assignee__isnull=True), user)
        waiting = []
        for row in request_rows(waiting_qs, "version").order_by(
                F("next_due_at").asc(nulls_last=True), "pk")[:WAITING_LIMIT]:
            item = {**self.shown(row, countdowns, now), "pk": row["pk"], "number": row["number"],
                    "title": row["title"], "version": row["version"],
                    "appointment": row["appointed_at"] or row["scheduled_for"], "errors": [], "chosen": ""}
            if failed and failed["pk"] == row["pk"]:
                item["errors"], item["chosen"] = failed["errors"], failed["engineer"]
            waiting.append(item)
        if failed and not any(item["pk"] == failed["pk"] for item in waiting):
            # No longer waiting (someone dispatched it meanwhile): say so above the board.
            context["stale_errors"] = failed["errors"]
        today = grid.days[0]
        days = [{"date": day, "weekday": Weekday(day.weekday()).label, "today": day == today} for day in grid.days]
        labels = {day["date"]: f'{day["weekday"]} {day["date"]:%m-%d}' for day in days}  # a stacked card's day titles
        for line in grid.lines:
            for cell in line.cells:
                cell.label = labels[cell.day]
        return render(self.request, "service/board.html", {
            **context, "board": grid, "days": days, "waiting": waiting, "waiting_limit": WAITING_LIMIT,
            "night_starts": board.NIGHT_STARTS, "night_ends": board.NIGHT_ENDS,
        }, status=status)

    @staticmethod
    def shown(row, countdowns, now) -> dict:
        """What a request's card shows besides its number and title: labels, colours and the countdown badge."""
        level = open_risk(row["paused"], row["next_due_at"], row["first_due"], row["first_warn"], now)
        words = countdowns.words
        return {
            "url": reverse("service:request_detail", args=[row["pk"]]),
            "priority": words["priority"].get(row["priority"], row["priority"]),
            "priority_class": priority_class(row["priority"]),
            "state": words["state"].get(row["state"], row["state"]), "state_value": row["state"],
            "state_class": state_class(row["state"]),
            "customer": row["customer__name"], "project": row["project__name"],
            "countdown": countdowns.badge(is_open=True, paused=row["paused"], due=row["next_due_at"],
                                          first_warn=row["first_warn"], provisional=row["due_provisional"], level=level),
        }
