"""Pages of change notices (LOG-3): the list (the desk's, sorted by the answer's deadline with a countdown; a
customer's user sees their own), submitting a notice (the portal's form, or staff entering one for the customer),
the notice page with its compatibility tests, and one page per verb: record a test, answer, withdraw.

Views stay thin: a form parses, a verb decides. A DomainError is a form message (422 for htmx); an illegal step or a
stale version a conflict message (409 for htmx). Every object is reached through `visible()`."""

from django.contrib import messages
from django.db.models import Case, IntegerField, Value, When
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView

from aftersales.core import clock
from aftersales.core.rows import row_id
from aftersales.core.scoping import get_visible_or_404, is_staff_member
from aftersales.core.views import ScopedListView, ScopedMixin
from aftersales.core.verb_forms import done, error_status, run_verb

from . import selectors, services
from .filters import NoticeFilter
from .forms import AnswerForm, NoticeForm, TestForm, WithdrawForm
from .models import OPEN_STATES, WITHDRAWABLE_STATES, ChangeNotice, CompatibilityTest

VIEW = "changes.view_changenotice"
SUBMIT = "changes.submit_change_notice"
HANDLE = "changes.handle_change_notice"


class NoticeList(ScopedListView):
    """Staff: the notices of their branch, those awaiting our answer first, the nearest deadline first, each with a
    countdown (amber when due soon, red when overdue). A customer's user: their own notices and our answers."""

    model = ChangeNotice
    permission_required = VIEW
    filterset_class = NoticeFilter
    template_name = "changes/notice_list.html"
    sort_fields = {"number": "pk", "due": "answer_due_at", "window": "window_starts_at", "state": "state"}

    def base_queryset(self):
        return selectors.notices_unscoped()

    def get_queryset(self):
        queryset = super(ScopedListView, self).get_queryset()
        by_request = self.sorted_by_request(queryset)
        if by_request is not None:
            return by_request
        awaiting_first = Case(When(state__in=OPEN_STATES, then=Value(0)), default=Value(1), output_field=IntegerField())
        return queryset.order_by(awaiting_first, "answer_due_at", "pk")

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        if self.request.user.customer_id:
            filterset.filters.pop("customer", None)  # their own only
        return filterset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["is_customer"] = bool(self.request.user.customer_id)
        context["now"] = clock.now()
        return context


class NoticeCreate(ScopedMixin, View):
    """The customer announces a change (portal); staff enter one the customer phoned or mailed in."""

    model = ChangeNotice
    permission_required = SUBMIT

    def get(self, request):
        initial = {}
        project = row_id(request.GET.get("project", ""))
        if project is not None:
            initial["project"] = project
        return self.render(NoticeForm(user=request.user, initial=initial))

    def post(self, request):
        form = NoticeForm(request.POST, user=request.user)
        created = []
        status = run_verb(form, lambda data: created.append(services.submit_notice(by=request.user, **data)))
        if status is None:
            messages.success(request, _("Change notice %(number)s sent. We will answer by %(due)s.") % {
                "number": created[0].number, "due": services.local(created[0].answer_due_at)})
            return done(request, created[0].get_absolute_url())
        return self.render(form, status=error_status(request, status))

    def render(self, form, status=200):
        return render(self.request, "changes/notice_form.html",
                      {"form": form, "form_title": _("Announce a change")}, status=status)


class NoticeDetail(ScopedMixin, DetailView):
    model = ChangeNotice
    permission_required = VIEW
    template_name = "changes/notice_detail.html"

    def get_object(self, queryset=None):
        return selectors.notice_page(self.request.user, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        notice, user = self.object, self.request.user
        tests = selectors.tests_of(notice)
        context.update({
            "is_customer": bool(user.customer_id), "is_staff": is_staff_member(user), "now": clock.now(),
            "tests": tests, "devices": selectors.devices_of(notice),
            "actions": [{"name": view.name, "title": view.title, "button_class": view.button_class,
                         "url": reverse(f"changes:{view.name}", args=[notice.pk])}
                        for view in NOTICE_ACTIONS if user.has_perm(view.permission_required)
                        and view.available(notice, user) and (tests or view is not Answer)],  # no answer untested
            "window_before_answer": notice.window_starts_at < notice.answer_due_at,
        })
        return context


class NoticeAction(ScopedMixin, View):
    """One verb on one notice. `name` is the URL's name (changes:<name>); GET shows its form, POST runs it. A POST the
    state does not allow is refused by the verb (409)."""

    model = ChangeNotice
    name = ""
    title = ""
    form_class = None
    permission_required = HANDLE
    states = OPEN_STATES
    submit_label = gettext_lazy("Save")
    button_class = "btn-primary"
    success_message = ""
    staff_only = True

    @classmethod
    def available(cls, notice, user) -> bool:
        return notice.state in cls.states and (not cls.staff_only or not user.customer_id)

    def get_object(self):
        return selectors.notice_page(self.request.user, self.kwargs["pk"])

    def make_form(self, notice, data=None, files=None):
        return self.form_class(data, files, initial={"version": notice.version})

    def get(self, request, pk):
        notice = self.get_object()
        return self.render(notice, self.make_form(notice))

    def post(self, request, pk):
        notice = self.get_object()
        form = self.make_form(notice, request.POST, request.FILES)
        status = run_verb(form, lambda data: self.perform(notice, data))
        if status is None:
            if self.success_message:
                messages.success(request, self.success_message)
            return done(request, notice.get_absolute_url())
        if status == 409 and not request.htmx:
            notice = self.get_object()  # the page shows the notice as it is now; sending again is deliberate
            form.data = form.data.copy()
            form.data["version"] = notice.version
        return self.render(notice, form, status=error_status(request, status))

    def render(self, notice, form, status=200):
        return render(self.request, "changes/action_page.html", {
            "object": notice, "form": form, "action": self, "available": self.available(notice, self.request.user),
            "action_url": reverse(f"changes:{self.name}", args=[notice.pk]), "now": clock.now(),
        }, status=status)

    def perform(self, notice, data):
        raise NotImplementedError


class RecordTest(NoticeAction):
    name, title = "record_test", gettext_lazy("Record a compatibility test")
    form_class = TestForm
    submit_label = gettext_lazy("Record the test")
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("The test is recorded.")

    def perform(self, notice, data):
        services.record_test(notice=notice, by=self.request.user, **data)


class Answer(NoticeAction):
    name, title = "answer", gettext_lazy("Answer the customer")
    form_class = AnswerForm
    submit_label = gettext_lazy("Send the answer")
    button_class = "btn-success"
    success_message = gettext_lazy("The answer is sent to the customer.")

    def perform(self, notice, data):
        services.answer_notice(notice=notice, by=self.request.user, **data)


class Withdraw(NoticeAction):
    """The customer calls the change off; staff with the permission may record that the customer did."""

    name, title = "withdraw", gettext_lazy("Withdraw the notice")
    form_class = WithdrawForm
    permission_required = SUBMIT
    states = WITHDRAWABLE_STATES
    submit_label = gettext_lazy("Withdraw the notice")
    button_class = "btn-outline-danger"
    success_message = gettext_lazy("The notice is withdrawn.")
    staff_only = False

    def perform(self, notice, data):
        services.withdraw_notice(notice=notice, by=self.request.user, **data)


NOTICE_ACTIONS = [RecordTest, Answer, Withdraw]


class EvidenceDownload(ScopedMixin, View):
    """The only way to a test's evidence file: scoped, never a media URL (lessons.md #7)."""

    model = CompatibilityTest
    permission_required = VIEW

    def get(self, request, pk):
        test = get_visible_or_404(CompatibilityTest.objects.all(), request.user, pk=pk)
        if not test.evidence_file:
            raise Http404
        try:
            handle = test.evidence_file.open("rb")
        except (FileNotFoundError, OSError, ValueError):
            raise Http404 from None
        inline = test.evidence_type.startswith("image/") or test.evidence_type == "application/pdf"
        response = FileResponse(handle, as_attachment=not inline, filename=test.evidence_name,
                                content_type=test.evidence_type or "application/octet-stream")
        response["Content-Security-Policy"] = "sandbox"  # an uploaded file never runs as our page
        response["Cache-Control"] = "private, max-age=0"
        return response

