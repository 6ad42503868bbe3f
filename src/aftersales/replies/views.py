"""Pages of canned replies (issue 25 §7): the list with the placeholder help, a form to write or change one, and the
small POST the chooser sends when a reply is inserted (the use count)."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from aftersales.core.errors import DomainError, StaleObject
from aftersales.core.verb_forms import add_error

from . import selectors, services
from .forms import ReplyForm
from .models import CannedReply
from .placeholders import PLACEHOLDERS

VIEW = "replies.view_cannedreply"
ADD = "replies.add_cannedreply"
CHANGE = "replies.change_cannedreply"


class Permitted(LoginRequiredMixin, PermissionRequiredMixin, View):
    pass


def branch_of(user, form):
    if "branch" in form.fields:
        return form.cleaned_data.get("branch")
    return user.branch


class ReplyList(Permitted):
    permission_required = VIEW

    def get(self, request):
        replies = list(selectors.listed(request.user)[:500])
        manageable = set(selectors.manageable(request.user).values_list("pk", flat=True)) if replies else set()
        for reply in replies:
            reply.can_edit = reply.pk in manageable and request.user.has_perm(CHANGE)
        return render(request, "replies/reply_list.html", {"replies": replies, "placeholders": PLACEHOLDERS})


class ReplyCreate(Permitted):
    permission_required = ADD

    def get(self, request):
        return self.page(ReplyForm(user=request.user))

    def post(self, request):
        form = ReplyForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                services.create_reply(by=request.user, branch=branch_of(request.user, form),
                                      title=form.cleaned_data["title"], body=form.cleaned_data["body"],
                                      active=form.cleaned_data["active"])
            except DomainError as error:
                add_error(form, error)
            else:
                messages.success(request, _("The reply is saved."))
                return redirect("replies:list")
        return self.page(form, status=200)

    def page(self, form, status=200):
        return render(self.request, "replies/reply_form.html", {"form": form, "title": _("New canned reply"),
                                                               "placeholders": PLACEHOLDERS}, status=status)


class ReplyEdit(Permitted):
    model = CannedReply
    permission_required = CHANGE

    def get_object(self):
        reply = selectors.manageable(self.request.user).select_related("branch").filter(pk=self.kwargs["pk"]).first()
        if reply is None:
            raise Http404
        return reply

    def get(self, request, pk):
        reply = self.get_object()
        form = ReplyForm(user=request.user, initial={"version": reply.version, "branch": reply.branch_id,
                                                     "title": reply.title, "body": reply.body, "active": reply.active})
        return self.page(reply, form)

    def post(self, request, pk):
        reply = self.get_object()
        form = ReplyForm(request.POST, user=request.user)
        status = 200
        if form.is_valid():
            try:
                services.change_reply(reply=reply, by=request.user, version=form.cleaned_data["version"],
                                      branch=branch_of(request.user, form) if "branch" in form.fields else reply.branch,
                                      title=form.cleaned_data["title"], body=form.cleaned_data["body"],
                                      active=form.cleaned_data["active"])
            except DomainError as error:
                add_error(form, error)
                status = 409 if isinstance(error, StaleObject) and request.htmx else 200
            else:
                messages.success(request, _("The reply is saved."))
                return redirect("replies:list")
        return self.page(reply, form, status=status)

    def page(self, reply, form, status=200):
        return render(self.request, "replies/reply_form.html", {"form": form, "reply": reply,
                                                               "title": _("Change the canned reply"),
                                                               "placeholders": PLACEHOLDERS}, status=status)


class ReplyUsed(Permitted):
    """The chooser inserted this reply: count it (staff who may see it: its branch's or an all-branch one)."""

    model = CannedReply
    permission_required = VIEW

    def post(self, request, pk):
        reply = selectors.listed(request.user).filter(pk=pk, active=True).first()
        if reply is None:
            raise Http404
        services.mark_used(reply=reply)
        return HttpResponse(status=204)
