"""Pages of the daily logs (LOG-1, issue 25 §2): my log (a day, the month's calendar, suggestions to start the day),
a day's page, one page per verb (its form alone, for a phone), the team's day for a manager, and the entries a
customer's contacts may see. Views are thin: a form parses, a verb decides; every object goes through the scoped
selectors (another branch's day is a 404, like a missing one)."""

import calendar
from datetime import date, datetime

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from aftersales.accounts.models import Branch
from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.core.scoping import EVERYTHING, scope_of
from aftersales.core.verb_forms import add_error

from . import selectors, services
from .forms import EntryForm, StartDayForm, VersionForm
from .models import DailyLog, LogEntry

WRITE = "journal.add_dailylog"
VIEW_LOG = "journal.view_dailylog"
TEAM = "journal.view_team_logs"
VIEW_ENTRY = "journal.view_logentry"


def parse_day(value, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


def parse_month(value, default: date) -> date:
    try:
        return datetime.strptime(value, "%Y-%m").date() if value else default.replace(day=1)
    except ValueError:
        return default.replace(day=1)


def shift_month(month: date, delta: int) -> date:
    index = month.year * 12 + month.month - 1 + delta
    return date(index // 12, index % 12 + 1, 1)


def run_verb(form, perform) -> int | None:
    """None when the verb went through; else the status (409 stale or not allowed, 422 bad input), the error on
    the form."""
    if not form.is_valid():
        return 422
    try:
        perform()
    except (IllegalTransition, StaleObject) as error:
        add_error(form, error)
        return 409
    except DomainError as error:
        add_error(form, error)
        return 422
    return None


def page_status(http_request, status: int) -> int:
    return status if http_request.htmx else 200


class Permitted(LoginRequiredMixin, PermissionRequiredMixin, View):
    pass


def own_log_or_404(user, pk) -> DailyLog:
    log = DailyLog.objects.filter(author_id=user.pk, pk=pk).select_related("author").first()
    if log is None:
        raise Http404
    return log


def own_entry_or_404(user, pk) -> LogEntry:
    entry = LogEntry.objects.filter(author_id=user.pk, pk=pk).select_related("log", "project").first()
    if entry is None:
        raise Http404
    return entry


def month_weeks(month: date, days: dict) -> list[list[dict | None]]:
    """The month as weeks (Monday first) of {day, info, today} cells; None outside the month."""
    today = clock.today()
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month):
        weeks.append([{"day": d, "info": days.get(d), "today": d == today, "future": d > today,
                       "weekend": d.weekday() >= 5} if d.month == month.month else None for d in week])
    return weeks


class MyLog(Permitted):
    """My log: the chosen day (today by default) and the month's calendar showing which days are written."""

    permission_required = WRITE

    def get(self, request):
        today = clock.today()
        day = parse_day(request.GET.get("day"), today)
        month = parse_month(request.GET.get("month"), day)
        log = DailyLog.objects.filter(author_id=request.user.pk, day=day).first()
        context = {"day": day, "today": today, "month": month, "log": log,
                   "weeks": month_weeks(month, selectors.month_of(request.user, month)),
                   "previous_month": shift_month(month, -1), "next_month": shift_month(month, 1),
                   "can_write": day <= today}
        if log is None and day <= today:
            suggestions = services.suggestions(request.user, day)
            context["suggestions"] = suggestions
            context["start_form"] = StartDayForm(initial={"day": day, "keep": [s.key for s in suggestions]},
                                                 suggestions=suggestions)
        elif log is not None:
            context["entries"] = selectors.day_page(log)
            context["total"] = sum(entry.minutes for entry in context["entries"])
            context["entry_form"] = EntryForm(user=request.user, day=day, initial={"version": log.version})
            context["suggestions"] = services.suggestions(request.user, day)
        return render(request, "journal/my_log.html", context)


class StartDay(Permitted):
    permission_required = WRITE

    def post(self, request):
        day = parse_day(request.POST.get("day"), clock.today())
        suggestions = services.suggestions(request.user, day)
        form = StartDayForm(request.POST, suggestions=suggestions)
        if not form.is_valid():
            messages.error(request, _("Choose a day."))
            return redirect(f"{reverse('journal:my_log')}?day={day:%Y-%m-%d}")
        kept = set(form.cleaned_data["keep"])
        try:
            services.start_day(by=request.user, day=form.cleaned_data["day"],
                               keep=[s for s in suggestions if s.key in kept])
        except DomainError as error:
            messages.error(request, error.message)
        return redirect(f"{reverse('journal:my_log')}?day={form.cleaned_data['day']:%Y-%m-%d}")


class LogDetail(Permitted):
    """A day as its author or a manager of the team sees it: entries, minutes, and the audit of its changes."""

    model = DailyLog
    permission_required = VIEW_LOG

    def get(self, request, pk):
        log = selectors.visible_logs(request.user).select_related("author", "branch").filter(pk=pk).first()
        if log is None:
            raise Http404
        entries = selectors.day_page(log)
        events = list(log.events.select_related("actor").order_by("at", "pk"))
        return render(request, "journal/log_detail.html", {
            "log": log, "entries": entries, "events": events, "total": sum(e.minutes for e in entries),
            "is_author": log.author_id == request.user.pk})


class AddEntry(Permitted):
    """The form of a new entry (a page of its own, for a phone). The page is scoped like the day; only the author
    adds to it (anyone else's POST is a 404)."""

    model = DailyLog
    permission_required = WRITE

    def get(self, request, pk):
        log = selectors.visible_logs(request.user).filter(pk=pk).first()
        if log is None:
            raise Http404
        form = EntryForm(user=request.user, day=log.day, initial={"version": log.version})
        return render(request, "journal/entry_form.html", {"log": log, "form": form, "title": _("Add an entry"),
                                                           "is_author": log.author_id == request.user.pk})

    def post(self, request, pk):
        log = own_log_or_404(request.user, pk)
        form = EntryForm(request.POST, user=request.user, day=log.day)
        status = run_verb(form, lambda: services.add_entry(log=log, by=request.user, **form.verb_arguments()))
        if status is None:
            messages.success(request, _("The entry is saved."))
            return redirect(f"{reverse('journal:my_log')}?day={log.day:%Y-%m-%d}")
        log.refresh_from_db()
        return render(request, "journal/entry_form.html", {"log": log, "form": form, "title": _("Add an entry"),
                                                           "is_author": True}, status=page_status(request, status))


class EditEntry(Permitted):
    """The form of an entry. The page is scoped like the entries; only the author changes it."""

    model = LogEntry
    permission_required = WRITE

    def get(self, request, pk):
        entry = selectors.visible_entries(request.user).select_related("log").filter(pk=pk).first()
        if entry is None:
            raise Http404
        form = EntryForm(user=request.user, day=entry.day, initial=EntryForm.initial_of(entry))
        return render(request, "journal/entry_form.html", {"log": entry.log, "entry": entry, "form": form,
                                                           "title": _("Change the entry"),
                                                           "is_author": entry.author_id == request.user.pk})

    def post(self, request, pk):
        entry = own_entry_or_404(request.user, pk)
        form = EntryForm(request.POST, user=request.user, day=entry.day)
        status = run_verb(form, lambda: services.edit_entry(entry=entry, by=request.user, **form.verb_arguments()))
        if status is None:
            messages.success(request, _("The entry is saved."))
            return redirect(f"{reverse('journal:my_log')}?day={entry.day:%Y-%m-%d}")
        return render(request, "journal/entry_form.html", {"log": entry.log, "entry": entry, "form": form,
                                                           "title": _("Change the entry"), "is_author": True},
                      status=page_status(request, status))


class RemoveEntry(Permitted):
    model = LogEntry
    permission_required = WRITE

    def post(self, request, pk):
        entry = own_entry_or_404(request.user, pk)
        form = VersionForm(request.POST)
        status = run_verb(form, lambda: services.remove_entry(entry=entry, by=request.user,
                                                              version=form.cleaned_data["version"]))
        if status is None:
            messages.success(request, _("The entry is removed."))
        else:
            messages.error(request, " ".join(str(e) for e in form.non_field_errors()) or _("Reload the page and try again."))
        return redirect(f"{reverse('journal:my_log')}?day={entry.day:%Y-%m-%d}")


class SubmitDay(Permitted):
    model = DailyLog
    permission_required = WRITE

    def post(self, request, pk):
        log = own_log_or_404(request.user, pk)
        form = VersionForm(request.POST)
        status = run_verb(form, lambda: services.submit_day(log=log, by=request.user,
                                                            version=form.cleaned_data["version"]))
        if status is None:
            messages.success(request, _("The day is submitted."))
        else:
            messages.error(request, " ".join(str(e) for e in form.non_field_errors()) or _("Reload the page and try again."))
        return redirect(f"{reverse('journal:my_log')}?day={log.day:%Y-%m-%d}")


class TeamDay(Permitted):
    """A manager's view of a day: who wrote, who did not, minutes per person (their branch; gm and admin choose)."""

    permission_required = TEAM

    def get(self, request):
        today = clock.today()
        day = parse_day(request.GET.get("day"), today)
        branches = []
        branch_id = None
        if scope_of(request.user).kind == EVERYTHING:
            branches = list(Branch.objects.order_by("name"))
            try:
                branch_id = int(request.GET.get("branch") or 0) or None
            except ValueError:
                branch_id = None
        people = selectors.team_day(request.user, day, branch_id)
        written = [p for p in people if p.log_id]
        return render(request, "journal/team_day.html", {
            "day": day, "today": today, "people": people, "branches": branches, "branch_id": branch_id,
            "written": len(written), "missing": len(people) - len(written),
            "minutes": sum(p.minutes for p in people),
            "previous_day": day.fromordinal(day.toordinal() - 1), "next_day": day.fromordinal(day.toordinal() + 1)})


class Entries(Permitted):
    """The entries a user may see, by day, a month at a time: a customer's contacts see the entries marked visible
    to them; staff their scope's."""

    permission_required = VIEW_ENTRY

    def get(self, request):
        month = parse_month(request.GET.get("month"), clock.today())
        entries = selectors.customer_month(request.user, month)
        return render(request, "journal/entries.html", {
            "month": month, "entries": entries, "total": sum(e.minutes for e in entries),
            "previous_month": shift_month(month, -1), "next_month": shift_month(month, 1),
            "is_customer": bool(request.user.customer_id)})
