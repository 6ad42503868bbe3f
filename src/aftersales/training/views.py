"""Pages of trainings (TRN-1) and handover checklists (TRN-2): the list of sessions (a customer's user sees their
own), planning a session, the session page with a page for each verb (its form alone, for a phone or for htmx), the
customer's signed feedback (on our screen, in the portal, or through the mailed link), the materials, and each
project's handover checklist.

Views stay thin: a form parses, a verb decides. A DomainError is a form message (422 for htmx); an illegal step or a
stale version a conflict message (409 for htmx). Every object is reached through `visible()`."""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView

from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.core.rows import row_id
from aftersales.core.scoping import get_visible_or_404, is_staff_member
from aftersales.core.views import ScopedListView, ScopedMixin
from aftersales.core.verb_forms import add_error, done, error_status, run_verb
from aftersales.customers.models import Project

from . import links, selectors, services
from .filters import HandoverProjectFilter, SessionFilter
from .forms import (
    AttendeeForm,
    ChecklistItemForm,
    DemonstratedForm,
    FeedbackFields,
    FeedbackForm,
    HeldForm,
    MaterialForm,
    ReasonForm,
    RemoveAttendeeForm,
    SessionForm,
    VersionForm,
)
from .models import (
    HandoverItem,
    SessionState,
    SignedVia,
    TrainingMaterial,
    TrainingSession,
)

VIEW_SESSION = "training.view_trainingsession"
MANAGE = "training.manage_training"
SIGN = "training.sign_training_feedback"
VIEW_CHECKLIST = "training.view_handoveritem"
RECORD_HANDOVER = "training.record_handover"


# ------------------------------------------------------------------------------------------------ sessions

class SessionList(ScopedListView):
    """Staff: the sessions of their scope; a customer's user: their own projects' sessions."""

    model = TrainingSession
    permission_required = VIEW_SESSION
    filterset_class = SessionFilter
    template_name = "training/session_list.html"
    sort_fields = {"number": "pk", "starts": "starts_at", "state": "state"}
    default_sort = "-starts_at"

    def base_queryset(self):
        return selectors.sessions_unscoped()

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        if self.request.user.customer_id:
            filterset.filters.pop("customer", None)  # their own only
        return filterset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["is_customer"] = bool(self.request.user.customer_id)
        return context


class SessionCreate(ScopedMixin, View):
    """Plan a session: the engineer or the manager."""

    model = TrainingSession
    permission_required = MANAGE

    def get(self, request):
        initial = {}
        project = row_id(request.GET.get("project", ""))
        if project is not None:
            initial["project"] = project
        return self.render(SessionForm(user=request.user, initial=initial))

    def post(self, request):
        form = SessionForm(request.POST, user=request.user)
        created = []
        status = run_verb(form, lambda data: created.append(services.plan_session(by=request.user, **data)))
        if status is None:
            messages.success(request, _("Session %(number)s planned.") % {"number": created[0].number})
            return done(request, created[0].get_absolute_url())
        return self.render(form, status=error_status(request, status))

    def render(self, form, status=200):
        return render(self.request, "training/session_form.html",
                      {"form": form, "form_title": _("Plan a training session")}, status=status)


class SessionDetail(ScopedMixin, DetailView):
    model = TrainingSession
    permission_required = VIEW_SESSION
    template_name = "training/session_detail.html"

    def get_object(self, queryset=None):
        return selectors.session_page(self.request.user, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        session, user = self.object, self.request.user
        staff = is_staff_member(user)
        context.update({
            "is_customer": bool(user.customer_id), "feedback": session.feedback_row,
            "log": selectors.session_log(session) if staff else [],
            "actions": [{"name": view.name, "title": view.title, "button_class": view.button_class,
                         "url": reverse(f"training:{view.name}", args=[session.pk])}
                        for view in SESSION_ACTIONS if user.has_perm(view.permission_required)
                        and view.available(session)],
            "can_manage": user.has_perm(MANAGE),
            "handover_items": list(session.handover_items.all()),
        })
        return context


class SessionAction(ScopedMixin, View):
    """One verb on one session. `name` is the URL's name (training:<name>); GET shows its form, POST runs it. The
    view does not check the state beyond showing a notice: a POST the state does not allow is refused by the verb
    (409)."""

    model = TrainingSession
    name = ""
    title = ""
    form_class = VersionForm
    permission_required = MANAGE
    states = (SessionState.PLANNED,)
    submit_label = gettext_lazy("Save")
    button_class = "btn-primary"
    success_message = ""
    template_name = "training/action_page.html"
    signature = False  # the page carries the signature pad

    @classmethod
    def available(cls, session) -> bool:
        return session.state in cls.states

    def get_object(self):
        return selectors.session_page(self.request.user, self.kwargs["pk"])

    def make_form(self, session, data=None, files=None):
        return self.form_class(data, files, initial={"version": session.version})

    def get(self, request, pk):
        session = self.get_object()
        return self.render(session, self.make_form(session))

    def post(self, request, pk):
        session = self.get_object()
        form = self.make_form(session, request.POST, request.FILES)
        status = run_verb(form, lambda data: self.perform(session, data))
        if status is None:
            if self.success_message:
                messages.success(request, self.success_message)
            return done(request, self.success_url(session))
        if status == 409 and "version" in form.fields and not request.htmx:
            session = self.get_object()  # the page shows the session as it is now; sending again is deliberate
            form.data = form.data.copy()
            form.data["version"] = session.version
        return self.render(session, form, status=error_status(request, status))

    def success_url(self, session):
        return session.get_absolute_url()

    def render(self, session, form, status=200, **extra):
        return render(self.request, self.template_name, {
            "object": session, "form": form, "action": self, "available": self.available(session),
            "action_url": reverse(f"training:{self.name}", args=[session.pk]), **self.extra_context(session), **extra,
        }, status=status)

    def extra_context(self, session) -> dict:
        return {}

    def perform(self, session, data):
        raise NotImplementedError


class ChangePlan(SessionAction):
    name, title = "change_plan", gettext_lazy("Change the plan")
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("The plan is changed.")
    template_name = "training/session_form.html"

    def make_form(self, session, data=None, files=None):
        initial = {name: getattr(session, name) for name in ("title", "kind", "venue", "place", "content",
                                                             "vendor_trainers")}
        initial.update(version=session.version, trainers=list(session.trainers.all()),
                       starts_at=session.starts_at.astimezone(clock.SHANGHAI),
                       ends_at=session.ends_at.astimezone(clock.SHANGHAI))
        return SessionForm(data, user=self.request.user, session=session, initial=initial)

    def render(self, session, form, status=200, **extra):
        return super().render(session, form, status, form_title=self.title, **extra)

    def perform(self, session, data):
        services.change_plan(session=session, by=self.request.user, **data)


class Attendees(SessionAction):
    """Invite one more of the customer's staff, or take an invitation back (`remove`)."""

    name, title = "attendees", gettext_lazy("Attendees")
    form_class = AttendeeForm
    submit_label = gettext_lazy("Invite")
    button_class = "btn-outline-primary"
    template_name = "training/attendees.html"

    def post(self, request, pk):
        if "attendee" not in request.POST:
            return super().post(request, pk)
        session = self.get_object()
        form = RemoveAttendeeForm(request.POST)

        def remove(data):
            attendee = session.attendees.filter(pk=data["attendee"]).first()
            if attendee is None:
                raise StaleObject()
            services.remove_attendee(attendee=attendee, by=request.user, version=data["version"])

        status = run_verb(form, remove)
        if status is None:
            return done(request, reverse("training:attendees", args=[pk]))
        return self.render(self.get_object(), self.make_form(session), status=error_status(request, status),
                           remove_errors=form.non_field_errors() or [e for errs in form.errors.values() for e in errs])

    def success_url(self, session):
        return reverse("training:attendees", args=[session.pk])

    def perform(self, session, data):
        services.add_attendee(session=session, by=self.request.user, **data)


class RecordHeld(SessionAction):
    name, title = "record_held", gettext_lazy("Record as held")
    form_class = HeldForm
    submit_label = gettext_lazy("Record as held and ask for the feedback")
    button_class = "btn-success"
    success_message = gettext_lazy("The session is recorded as held; the customer is asked for the signed feedback.")

    def make_form(self, session, data=None, files=None):
        return HeldForm(data, session=session, initial={"version": session.version,
                                                        "present": list(session.attendees.all())})

    def perform(self, session, data):
        services.record_held(session=session, by=self.request.user, **data)


class CancelSession(SessionAction):
    name, title = "cancel", gettext_lazy("Cancel the session")
    form_class = ReasonForm
    submit_label = gettext_lazy("Cancel the session")
    button_class = "btn-outline-danger"
    success_message = gettext_lazy("The session is cancelled.")

    def perform(self, session, data):
        services.cancel_session(session=session, by=self.request.user, **data)


class ResendLink(SessionAction):
    name, title = "resend_link", gettext_lazy("Send a new feedback link")
    states = (SessionState.HELD,)
    submit_label = gettext_lazy("Send a new link")
    button_class = "btn-outline-secondary"
    success_message = gettext_lazy("A new feedback link is sent; earlier links no longer work.")

    def perform(self, session, data):
        services.resend_feedback_link(session=session, by=self.request.user, **data)


class AddMaterial(SessionAction):
    name, title = "add_material", gettext_lazy("Add material")
    form_class = MaterialForm
    states = (SessionState.PLANNED, SessionState.HELD, SessionState.SIGNED)
    submit_label = gettext_lazy("Upload")
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("The file is added.")

    def make_form(self, session, data=None, files=None):
        return MaterialForm(data, files)

    def perform(self, session, data):
        services.add_material(session=session, by=self.request.user, upload=data["file"])


class SignOnScreen(SessionAction):
    """The customer's person signs on our engineer's screen (signature pad → PNG): they have no login, the feedback
    records their name and signature, and whose screen it was."""

    name, title = "sign_on_screen", gettext_lazy("Customer signs on this screen")
    form_class = FeedbackForm
    states = (SessionState.HELD,)
    submit_label = gettext_lazy("Sign the feedback")
    button_class = "btn-success"
    success_message = gettext_lazy("The customer's feedback is signed.")
    signature = True
    via = SignedVia.SCREEN

    def perform(self, session, data):
        services.sign_feedback(session=session, via=self.via, on_screen_of=self.request.user, **data)


class SignInPortal(SignOnScreen):
    """The customer's user signs the feedback in the portal."""

    name, title = "sign_in_portal", gettext_lazy("Sign the feedback")
    permission_required = SIGN
    via = SignedVia.PORTAL

    def make_form(self, session, data=None, files=None):
        return FeedbackForm(data, initial={"version": session.version,
                                           "signer_name": self.request.user.display_name})

    def perform(self, session, data):
        services.sign_feedback(session=session, via=self.via, by=self.request.user, **data)


SESSION_ACTIONS = [SignInPortal, SignOnScreen, RecordHeld, Attendees, ChangePlan, AddMaterial, ResendLink,
                   CancelSession]


class MaterialDownload(ScopedMixin, View):
    """The only way to a material: scoped, never a media URL (lessons.md #7)."""

    model = TrainingMaterial
    permission_required = VIEW_SESSION

    def get(self, request, pk):
        material = get_visible_or_404(TrainingMaterial.objects.all(), request.user, pk=pk)
        try:
            handle = material.file.open("rb")
        except (FileNotFoundError, OSError, ValueError):
            raise Http404 from None
        inline = material.content_type.startswith("image/") or material.content_type == "application/pdf"
        response = FileResponse(handle, as_attachment=not inline, filename=material.original_name,
                                content_type=material.content_type)
        response["Content-Security-Policy"] = "sandbox"  # an uploaded file never runs as our page
        response["Cache-Control"] = "private, max-age=0"
        return response


class FeedbackByLink(View):
    """TRN-1: the signed, expiring, single-use link from the mail. No login: the token is the key. A bad link answers
    404, an expired or used one 410, one opened as another customer's contact 403; each shows why and offers nothing
    to submit."""

    template_name = "training/feedback_link.html"

    def session(self, token):
        return links.session_for_token(token, self.request.user)

    def get(self, request, token):
        try:
            session = self.session(token)
        except DomainError as error:
            return render(request, self.template_name, {"link_error": error.message}, status=error.status)
        return self.render(session, FeedbackFields())

    def post(self, request, token):
        try:
            session = self.session(token)
        except DomainError as error:
            return render(request, self.template_name, {"link_error": error.message}, status=error.status)
        form = FeedbackFields(request.POST)
        user = request.user
        # A logged-in contact of this customer signs as themselves; anyone else by the name they give.
        by = user if user.is_authenticated and user.customer_id == session.customer_id else None
        if form.is_valid():
            try:
                services.sign_feedback(session=session, version=session.version, via=SignedVia.LINK, by=by,
                                       **form.cleaned_data)
            except (IllegalTransition, StaleObject) as error:
                return render(request, self.template_name, {"link_error": error.message}, status=409)
            except DomainError as error:
                add_error(form, error)
            else:
                return render(request, self.template_name, {"signed": True, "object": session})
        return self.render(session, form, status=422 if request.htmx else 200)

    def render(self, session, form, status=200):
        return render(self.request, self.template_name, {"object": session, "form": form}, status=status)


# ------------------------------------------------------------------------------------------------ handover (TRN-2)

class HandoverList(ScopedListView):
    """The projects of the user's scope and how far each handover is; 独立运行 when every item is demonstrated."""

    model = Project
    permission_required = VIEW_CHECKLIST
    filterset_class = HandoverProjectFilter
    template_name = "training/handover_list.html"
    sort_fields = {"project": "name", "customer": "customer__name"}
    default_sort = "name"

    def base_queryset(self):
        return selectors.handover_projects_unscoped()

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        if self.request.user.customer_id:
            filterset.filters.pop("customer", None)
        return filterset


class HandoverDetail(ScopedMixin, DetailView):
    """One project's checklist: each capability, who demonstrated it alone, when, in which session."""

    model = Project
    permission_required = VIEW_CHECKLIST
    template_name = "training/handover_detail.html"
    context_object_name = "project"

    def get_object(self, queryset=None):
        return get_visible_or_404(Project.objects.select_related("customer"), self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        project, user = self.object, self.request.user
        items = selectors.handover_items(project)
        context.update({
            "items": items, "status": selectors.HandoverStatus(len(items), sum(item.done for item in items)),
            "sessions": list(selectors.sessions_of_project(project, user)[:20]),
            "can_record": user.has_perm(RECORD_HANDOVER), "can_plan": user.has_perm(MANAGE),
            "log": selectors.project_log(project) if is_staff_member(user) else [],
        })
        return context


class HandoverAdd(ScopedMixin, View):
    """Add a capability to the project's checklist, or the standard ones it lacks (`standard`)."""

    model = Project
    permission_required = RECORD_HANDOVER

    def project(self):
        return get_visible_or_404(Project.objects.select_related("customer"), self.request.user, pk=self.kwargs["pk"])

    def get(self, request, pk):
        project = self.project()
        return self.render(project, ChecklistItemForm())

    def post(self, request, pk):
        project = self.project()
        if "standard" in request.POST:
            added = services.start_checklist(project=project, by=request.user)
            messages.success(request, _("%(n)s standard capabilities added.") % {"n": len(added)})
            return done(request, reverse("training:handover", args=[pk]))
        form = ChecklistItemForm(request.POST)
        status = run_verb(form, lambda data: services.add_checklist_item(project=project, by=request.user, **data))
        if status is None:
            return done(request, reverse("training:handover", args=[pk]))
        return self.render(project, form, status=error_status(request, status))

    def render(self, project, form, status=200):
        return render(self.request, "training/handover_add.html",
                      {"project": project, "form": form, "standard": services.STANDARD_CHECKLIST}, status=status)


class ItemAction(ScopedMixin, View):
    model = HandoverItem
    permission_required = RECORD_HANDOVER
    name = ""
    title = ""
    submit_label = gettext_lazy("Save")
    button_class = "btn-primary"

    def get_object(self):
        return get_visible_or_404(HandoverItem.objects.select_related("project__customer", "session"),
                                  self.request.user, pk=self.kwargs["pk"])

    def get(self, request, pk):
        item = self.get_object()
        return self.render(item, self.make_form(item))

    def post(self, request, pk):
        item = self.get_object()
        form = self.make_form(item, request.POST)
        status = run_verb(form, lambda data: self.perform(item, data))
        if status is None:
            return done(request, reverse("training:handover", args=[item.project_id]))
        if status == 409 and not request.htmx:
            item = self.get_object()
            form.data = form.data.copy()
            form.data["version"] = item.version
        return self.render(item, form, status=error_status(request, status))

    def render(self, item, form, status=200):
        return render(self.request, "training/item_action.html",
                      {"item": item, "form": form, "action": self, "available": self.available(item),
                       "action_url": reverse(f"training:{self.name}", args=[item.pk])}, status=status)


class MarkDemonstrated(ItemAction):
    name, title = "item_demonstrated", gettext_lazy("Demonstrated independently")
    submit_label = gettext_lazy("Mark as demonstrated")
    button_class = "btn-success"

    def available(self, item):
        return not item.done

    def make_form(self, item, data=None):
        return DemonstratedForm(data, sessions=selectors.held_sessions_of(item.project, self.request.user),
                                initial={"version": item.version, "demonstrated_on": clock.today()})

    def perform(self, item, data):
        services.mark_demonstrated(item=item, by=self.request.user, **data)


class ReopenItem(ItemAction):
    name, title = "item_reopen", gettext_lazy("Take the mark back")
    submit_label = gettext_lazy("Take the mark back")
    button_class = "btn-outline-danger"

    def available(self, item):
        return item.done

    def make_form(self, item, data=None):
        return ReasonForm(data, initial={"version": item.version})

    def perform(self, item, data):
        services.reopen_item(item=item, by=self.request.user, **data)
