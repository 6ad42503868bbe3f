"""One page per verb on a request (SRQ-2..10), and the desk's verbs. GET shows the verb's form alone (a page, or the
fragment for htmx); POST calls the verb. Which actions a user may take is decided in one place,
`service.actions.ACTIONS`: each view names its entry there (`action`), which also gives the permission the view
requires. The view does not check the state itself: a POST the state does not allow is refused by the verb (409)."""

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views import View

from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.core.scoping import get_visible_or_404
from aftersales.core.views import ScopedMixin

from .. import actions as rules
from .. import dispatching, verbs
from ..forms import (
    AdvisorForm, AttachmentsForm, CommentForm, ContingencyForm, DispatchForm, PriorityForm, ReasonForm, ReplyForm,
    ResumeForm, discard_kept_files, keep_chosen_files, keep_files_for,
)
from ..models import ServiceRequest
from .common import add_domain_error, done, error_status, priority_choices, request_queryset, safe_next


class RequestAction(ScopedMixin, View):
    """One verb on one request. A form carries the version of the request the user saw; the verb compares it under
    its lock.

    `name` is the URL's name (service:<name>) and the panel's id on the request page; `action` is the verb's entry in
    `service.actions.ACTIONS`, the same as `name` unless the view declares it."""

    model = ServiceRequest
    name = ""
    action = ""
    title = ""
    form_class = None
    partial = "service/_action_form.html"
    submit_label = gettext_lazy("Save")
    button_class = "btn-primary"
    success_message = ""
    expanded = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            cls.action = cls.__dict__.get("action") or cls.name
        if cls.action:  # a misspelt action fails at start-up, not on the first click
            cls.permission_required = rules.permission_of(cls.action)

    # -- what the request page asks
    @classmethod
    def make_form(cls, request_obj, user, data=None, files=None):
        return cls.form_class(data, files, initial=cls.initial(request_obj), **cls.form_kwargs(request_obj))

    @classmethod
    def initial(cls, request_obj) -> dict:
        return {"version": request_obj.version}

    @classmethod
    def form_kwargs(cls, request_obj) -> dict:
        return {}

    @classmethod
    def extra_context(cls, http_request, request_obj) -> dict:
        return {}

    @classmethod
    def panel(cls, http_request, request_obj, form=None, *, available: bool) -> dict:
        """What the panel's template shows; `available`: whether the action is allowed now (from
        service.actions)."""
        return {
            "name": cls.name, "title": cls.title, "url": reverse(f"service:{cls.name}", args=[request_obj.pk]),
            "form": form or cls.make_form(request_obj, http_request.user), "partial": cls.partial,
            "submit_label": cls.submit_label, "button_class": cls.button_class, "expanded": cls.expanded,
            "available": available, "priorities": priority_choices(),
            **cls.extra_context(http_request, request_obj),
        }

    # -- HTTP
    def get_object(self):
        return get_visible_or_404(request_queryset(), self.request.user, pk=self.kwargs["pk"])

    def get(self, request, pk):
        request_obj = self.get_object()
        return self.render(request_obj, self.make_form(request_obj, request.user))

    def post(self, request, pk):
        request_obj = self.get_object()
        form = self.make_form(request_obj, request.user, request.POST, request.FILES)
        status = 422
        if form.is_valid():
            try:
                self.perform(request_obj, form)
            except (IllegalTransition, StaleObject) as error:
                status = 409
                add_domain_error(form, error)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                if self.success_message:
                    messages.success(request, self.success_message)
                return done(request, safe_next(request, request_obj.get_absolute_url()))
        if status == 409:
            request_obj = self.get_object()  # show what the request is now
            if not request.htmx and "version" in form.fields:
                # The page below shows the request as it is now; sending the form again is a deliberate choice.
                form.data = form.data.copy()
                form.data["version"] = request_obj.version
        return self.render(request_obj, form, status=error_status(request, status))

    def render(self, request_obj, form, status=200):
        available = rules.is_allowed(self.action, request_obj, self.request.user)  # the permission: the view's own
        panel = self.panel(self.request, request_obj, form, available=available)
        context = {"object": request_obj, "action": panel, "now": clock.now(),
                   "next": safe_next(self.request, "")}
        template = "service/_action.html" if self.request.htmx else "service/action_page.html"
        return render(self.request, template, context, status=status)

    def perform(self, request_obj, form):
        raise NotImplementedError


class Reply(RequestAction):
    name, title = "reply", gettext_lazy("Reply with a service plan")
    form_class = ReplyForm
    submit_label = gettext_lazy("Send the plan")
    success_message = gettext_lazy("The service plan is recorded.")
    expanded = True

    def perform(self, request_obj, form):
        data = form.cleaned_data
        verbs.reply(request=request_obj, by=self.request.user, mode=data["mode"], plan=data["plan"],
                    scheduled_for=data["scheduled_for"], version=data["version"])


class Dispatch(RequestAction):
    name, title = "dispatch", gettext_lazy("Dispatch an engineer")
    form_class = DispatchForm
    partial = "service/_dispatch_form.html"
    submit_label = gettext_lazy("Dispatch")
    success_message = gettext_lazy("The engineer is dispatched.")
    expanded = True

    @classmethod
    def form_kwargs(cls, request_obj):
        return {"request": request_obj}

    @classmethod
    def extra_context(cls, http_request, request_obj):
        # SRQ-6: ranked by duty, specialty, distance and load, each with its reasons.
        return {"suggestions": dispatching.suggest(request_obj, at=clock.now())}

    def perform(self, request_obj, form):
        verbs.dispatch(request=request_obj, by=self.request.user, engineer=form.cleaned_data["engineer"],
                       version=form.cleaned_data["version"])


class Pause(RequestAction):
    name, title = "pause", gettext_lazy("Pause the clock (waiting for the owner)")
    form_class = ReasonForm
    submit_label = gettext_lazy("Pause")
    button_class = "btn-outline-secondary"
    success_message = gettext_lazy("The clock is paused.")

    def perform(self, request_obj, form):
        verbs.pause(request=request_obj, by=self.request.user, version=form.cleaned_data["version"],
                    reason=form.cleaned_data["reason"])


class Resume(RequestAction):
    name, title = "resume", gettext_lazy("Resume the clock")
    form_class = ResumeForm
    submit_label = gettext_lazy("Resume")
    success_message = gettext_lazy("The clock runs again.")
    expanded = True

    def perform(self, request_obj, form):
        verbs.resume(request=request_obj, by=self.request.user, version=form.cleaned_data["version"])


class ChangePriority(RequestAction):
    name, title = "priority", gettext_lazy("Change the priority")
    action = "change_priority"
    form_class = PriorityForm
    partial = "service/_priority_form.html"
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("The priority is changed; the due times are recomputed.")

    @classmethod
    def initial(cls, request_obj):
        return {"version": request_obj.version, "priority": request_obj.priority}

    def perform(self, request_obj, form):
        data = form.cleaned_data
        verbs.change_priority(request=request_obj, by=self.request.user, priority=data["priority"],
                              reason=data["reason"], version=data["version"])


class Contingency(RequestAction):
    name, title = "contingency", gettext_lazy("Agreed contingency plan")
    form_class = ContingencyForm
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("The contingency plan is recorded.")

    @classmethod
    def initial(cls, request_obj):
        return {"version": request_obj.version, "plan": request_obj.contingency_plan}

    def perform(self, request_obj, form):
        verbs.record_contingency(request=request_obj, by=self.request.user, version=form.cleaned_data["version"],
                                 plan=form.cleaned_data["plan"])


class HandToAdvisor(RequestAction):
    name, title = "advisor", gettext_lazy("Hand to a technical advisor")
    form_class = AdvisorForm
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("The technical advisor is asked.")

    def perform(self, request_obj, form):
        data = form.cleaned_data
        verbs.hand_to_advisor(request=request_obj, by=self.request.user, version=data["version"], advisor=data["advisor"],
                              note=data["note"])


class Cancel(RequestAction):
    name, title = "cancel", gettext_lazy("Cancel the request")
    form_class = ReasonForm
    submit_label = gettext_lazy("Cancel the request")
    button_class = "btn-outline-danger"
    success_message = gettext_lazy("The request is cancelled.")

    def perform(self, request_obj, form):
        verbs.cancel(request=request_obj, by=self.request.user, version=form.cleaned_data["version"],
                     reason=form.cleaned_data["reason"])


class Comment(RequestAction):
    """Staff and the customer's users; comments are seen by both, and add to the timeline only."""

    name, title = "comment", gettext_lazy("Comment")
    form_class = CommentForm
    submit_label = gettext_lazy("Add the comment")
    button_class = "btn-outline-primary"

    def perform(self, request_obj, form):
        verbs.comment(request=request_obj, by=self.request.user, text=form.cleaned_data["text"])


class KeepsChosenFiles:
    """Issue 21 §11, mixed into an action with file inputs: the files chosen are kept when the form is sent back
    with an error (service.forms.keep_chosen_files), and deleted once it goes through."""

    @classmethod
    def make_form(cls, request_obj, user, data=None, files=None):
        return keep_files_for(super().make_form(request_obj, user, data, files), user)

    def render(self, request_obj, form, status=200):
        keep_chosen_files(form)
        return super().render(request_obj, form, status)

    def post(self, request, pk):
        response = super().post(request, pk)
        if response.status_code in (204, 302):  # done: the kept files are attachments now
            discard_kept_files(self.form_class, request.POST, request.user)
        return response


class AddAttachments(KeepsChosenFiles, RequestAction):
    """Screenshots, photos and logs added after the request was opened, by staff and the customer's users.
    All files or none: a rejected file writes nothing."""

    name, title = "add_attachments", gettext_lazy("Add attachments")
    action = "attachments"
    form_class = AttachmentsForm
    partial = "service/_attachments_form.html"
    submit_label = gettext_lazy("Upload")
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("The files are attached.")

    @classmethod
    def initial(cls, request_obj):
        return {}

    def perform(self, request_obj, form):
        verbs.add_attachments(request=request_obj, by=self.request.user, uploads=form.cleaned_data["attachments"])
