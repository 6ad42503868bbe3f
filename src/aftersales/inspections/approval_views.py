"""Pages of the approval gate (INS-2, issue 23 §2) and of the calendars (§10).

- the signed link from the mail (no account): the window, scope, devices and downtime; approve, or propose another;
- the customer portal's list of rounds waiting for their approval (and, for our side, the rounds waiting for a
  window or for our answer to the customer's), each with its forms;
- one round's negotiation page: the proposals (who, when, how answered) and the forms of whoever's turn it is;
- a round's calendar invitation (.ics), on the round page and through a signed link in the mails;
- the page where a user creates and revokes their calendar feeds, and the feed itself (its key is the door).

Views stay thin: a form parses, a verb decides. A bad, expired, used or foreign link shows why with its status
(404, 410, 403) and offers nothing to submit."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.core.rows import row_id
from aftersales.core.views import ScopedMixin

from . import approval_selectors, approvals, calendars
from .approval_forms import (
    AcceptForm,
    ApproveForm,
    FeedForm,
    ProposeForm,
    SendWindowForm,
    add_error,
)
from .models import InspectionRound, ProposalSide, RoundState

VIEW_ROUND = "inspections.view_inspectionround"
LINK_TEMPLATE = "inspections/approval/link.html"


def status_for(http_request, status: int) -> int:
    """htmx swaps 409/422 bodies; a plain form post shows the page with its message."""
    return status if http_request.htmx else 200


def ics_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-cache"
    return response


def card(round_, devices) -> dict:
    """What a round's approval card shows."""
    pending = approval_selectors.open_proposal(round_)
    ours = approval_selectors.proposals_of(round_)
    last_ours = next((p for p in reversed(ours) if p.side == ProposalSide.PROVIDER), None)
    return {"round": round_, "pending": pending, "devices": devices, "turn": approval_selectors.turn_of(round_),
            "agreed": approval_selectors.agreed_proposal(round_), "proposals": ours,
            "terms": pending or last_ours}


# ------------------------------------------------------------------------------------------------ the link

class ApprovalByLink(View):
    """The signed, expiring, single-use link from the mail. No login: the token is the key."""

    def get(self, request, token):
        try:
            proposal = approvals.proposal_for_token(token, request.user)
        except DomainError as error:
            return render(request, LINK_TEMPLATE, {"link_error": error.message}, status=error.status)
        named = not approvals.on_customer_side(request.user, proposal.round)
        return self.render(proposal, ApproveForm(prefix="approve", named=named),
                           ProposeForm(prefix="propose", named=named))

    def post(self, request, token):
        try:
            proposal = approvals.proposal_for_token(token, request.user)
        except DomainError as error:
            return render(request, LINK_TEMPLATE, {"link_error": error.message}, status=error.status)
        round_ = proposal.round
        by = request.user if approvals.on_customer_side(request.user, round_) else None
        named = by is None
        decision = "propose" if request.POST.get("decision") == "propose" else "approve"
        approve_form = ApproveForm(request.POST if decision == "approve" else None, prefix="approve", named=named)
        propose_form = ProposeForm(request.POST if decision == "propose" else None, prefix="propose", named=named)
        form = propose_form if decision == "propose" else approve_form
        if form.is_valid():
            name = form.cleaned_data.get("name", "")
            try:
                if decision == "propose":
                    approvals.propose_window(proposal=proposal, by=by, name=name, note=form.cleaned_data["note"],
                                             via=approvals.VIA_LINK, **form.window())
                else:
                    approvals.approve_window(proposal=proposal, by=by, name=name, via=approvals.VIA_LINK)
            except (IllegalTransition, StaleObject) as error:
                return render(request, LINK_TEMPLATE, {"link_error": error.message}, status=409)
            except DomainError as error:
                add_error(form, error)
            else:
                return render(request, LINK_TEMPLATE, {"decided": decision, "round": round_,
                                                       "invite_url": approvals.invite_url(round_)})
        return self.render(proposal, approve_form, propose_form, status=status_for(request, 422))

    def render(self, proposal, approve_form, propose_form, status=200):
        round_ = proposal.round
        devices = approval_selectors.devices_for([round_]).get(round_.pk, [])
        return render(self.request, LINK_TEMPLATE, {
            "proposal": proposal, "round": round_, "devices": devices, "approve_form": approve_form,
            "propose_form": propose_form, "invite_url": approvals.invite_url(round_),
            "window": approvals.window_label(proposal.starts_at, proposal.ends_at)}, status=status)


class InviteByLink(View):
    """The calendar invitation from the mails (read-only, signed, expiring; a calendar program may fetch it again)."""

    def get(self, request, token):
        try:
            round_ = approvals.round_for_invite(token, request.user)
        except DomainError as error:
            return render(request, LINK_TEMPLATE, {"link_error": error.message}, status=error.status)
        round_ = approval_selectors.with_proposals(InspectionRound.objects.select_related("plan", "project", "engineer")
                                                   ).get(pk=round_.pk)
        return ics_response(calendars.invitation(round_), f"{round_.number}.ics")


# ------------------------------------------------------------------------------------------------ portal and desk

class ApprovalList(ScopedMixin, View):
    """Customers: the rounds waiting for their approval (approve or propose another window right here). Our side:
    the rounds waiting for a window to be sent, or for our answer to the customer's window, then those waiting for
    the customer."""

    model = InspectionRound
    permission_required = VIEW_ROUND
    paginate_by = 20

    def get(self, request):
        rounds = approval_selectors.awaiting(request.user)
        page = Paginator(rounds, self.paginate_by).get_page(request.GET.get("page"))
        devices = approval_selectors.devices_for(page.object_list)
        cards = [card(round_, devices.get(round_.pk, [])) for round_ in page.object_list]
        is_customer = bool(request.user.customer_id)
        mine = "customer" if is_customer else "provider"
        cards.sort(key=lambda c: (c["turn"] != mine,))  # stable: due order kept within each group
        for each in cards:
            if is_customer and each["turn"] == "customer":
                auto_id = f"r{each['round'].pk}_%s"  # the portal's list: each round's forms, posted to its page
                each["approve_form"] = ApproveForm(prefix="approve", named=False, auto_id=auto_id)
                each["propose_form"] = ProposeForm(prefix="propose", named=False, auto_id=auto_id)
        return render(request, "inspections/approval/list.html", {
            "cards": cards, "page_obj": page, "is_customer": is_customer, "mine": mine})


ACTIONS = ("send", "accept", "approve", "propose")


class RoundApproval(ScopedMixin, View):
    """One round's negotiation: every proposal (who, when, how answered), and the forms of whoever's turn it is.
    POST `action`: send (our window), accept (the customer's), approve or propose (the customer)."""

    model = InspectionRound
    permission_required = VIEW_ROUND

    def get_round(self, pk) -> InspectionRound:
        try:
            return approval_selectors.round_for_approval(self.request.user, pk)
        except InspectionRound.DoesNotExist:
            raise Http404 from None

    def get(self, request, pk):
        round_ = self.get_round(pk)
        return self.render(round_, self.forms(round_))

    def forms(self, round_, data=None, action=None) -> dict:
        user = self.request.user
        forms = {}
        if round_.state != RoundState.AWAITING_APPROVAL:
            return forms
        pending = approval_selectors.open_proposal(round_)

        def bound(name):
            return data if action == name else None

        if approvals.on_our_side(user, round_):
            initial = {"version": round_.version, "scope": (pending.scope if pending else "")
                       or approval_selectors.default_scope(round_),
                       "downtime_minutes": pending.downtime_minutes if pending else None}
            if pending is None:
                initial["day"] = round_.due_on
            forms["send"] = SendWindowForm(bound("send"), prefix="send", initial=initial)
            if pending is not None and pending.side == ProposalSide.CUSTOMER:
                forms["accept"] = AcceptForm(bound("accept"), prefix="accept", initial={"version": round_.version})
        elif approvals.on_customer_side(user, round_) and pending is not None \
                and pending.side == ProposalSide.PROVIDER:
            forms["approve"] = ApproveForm(bound("approve"), prefix="approve", named=False)
            forms["propose"] = ProposeForm(bound("propose"), prefix="propose", named=False)
        return forms

    def post(self, request, pk):
        round_ = self.get_round(pk)
        action = request.POST.get("action")
        if action not in ACTIONS:
            messages.error(request, _("Choose what to do."))
            return redirect(reverse("inspections:round_approval", args=[round_.pk]))
        forms = self.forms(round_, request.POST, action)
        form = forms.get(action)
        if form is None:
            status = 403 if round_.state == RoundState.AWAITING_APPROVAL else 409
            messages.error(request, _("This is not possible now: the round is not waiting for this answer from you."))
            return self.render(round_, self.forms(round_), status=status)
        status = 422
        if form.is_valid():
            try:
                self.perform(round_, action, form)
            except (IllegalTransition, StaleObject) as error:
                status = 409
                add_error(form, error)
            except DomainError as error:
                status = error.status if error.status in (403, 409) else 422
                add_error(form, error)
            else:
                messages.success(request, {
                    "send": _("The window is sent to the customer; they are reminded daily until they answer."),
                    "accept": _("The customer's window is agreed: the round is approved."),
                    "approve": _("Thank you: the window is approved."),
                    "propose": _("Thank you: your window is sent to the service team."),
                }[action])
                return redirect(reverse("inspections:round_approval", args=[round_.pk]))
        if status == 409:
            fresh = self.get_round(pk)
            fresh_forms = self.forms(fresh)
            if action in fresh_forms:
                fresh_forms[action] = form
                if "version" in form.fields:
                    form.data = form.data.copy()
                    form.data[f"{action}-version"] = fresh.version
            return self.render(fresh, fresh_forms, status=status_for(request, 409))
        return self.render(round_, {**self.forms(round_), action: form},
                           status=403 if status == 403 else status_for(request, status))

    def perform(self, round_, action, form):
        user, data = self.request.user, form.cleaned_data
        if action == "send":
            approvals.send_window(round=round_, by=user, version=data["version"], scope=data["scope"],
                                  downtime_minutes=data["downtime_minutes"], note=data["note"], **form.window())
        elif action == "accept":
            approvals.accept_window(round=round_, by=user, version=data["version"])
        else:
            pending = approval_selectors.open_proposal(round_)
            if pending is None:
                raise IllegalTransition(_("This window has been answered already, or replaced by a newer one."))
            if action == "approve":
                approvals.approve_window(proposal=pending, by=user, via=approvals.VIA_PORTAL)
            else:
                approvals.propose_window(proposal=pending, by=user, note=data["note"], via=approvals.VIA_PORTAL,
                                         **form.window())

    def render(self, round_, forms, status=200):
        devices = approval_selectors.devices_for([round_]).get(round_.pk, [])
        return render(self.request, "inspections/approval/round.html", {
            "object": round_, "forms": forms, "is_customer": bool(self.request.user.customer_id),
            **card(round_, devices)}, status=status)


class RoundInvite(ScopedMixin, View):
    """The round's calendar invitation (.ics): its agreed window, or the one under discussion (tentative)."""

    model = InspectionRound
    permission_required = VIEW_ROUND

    def get(self, request, pk):
        try:
            round_ = calendars.round_of(request.user, pk)
        except InspectionRound.DoesNotExist:
            raise Http404 from None
        return ics_response(calendars.invitation(round_), f"{round_.number}.ics")


# ------------------------------------------------------------------------------------------------ calendar feeds

class CalendarFeeds(LoginRequiredMixin, View):
    """A user's calendar feeds: create one (their own schedule, or one project's), copy its address, revoke it."""

    def get(self, request):
        return self.render(FeedForm(user=request.user))

    def post(self, request):
        form = FeedForm(request.POST, user=request.user)
        if request.POST.get("action") == "revoke":
            token_id = row_id(request.POST.get("token"))
            try:
                calendars.revoke_token(user=request.user, token_id=token_id or 0)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("The feed is revoked: its address no longer works."))
            return redirect("inspections:calendar_feeds")
        if form.is_valid():
            try:
                calendars.create_token(user=request.user, project=form.cleaned_data["project"])
            except DomainError as error:
                add_error(form, error)
            else:
                messages.success(request, _("The feed is created: copy its address into your calendar program."))
                return redirect("inspections:calendar_feeds")
        return self.render(form, status=status_for(request, 422))

    def render(self, form, status=200):
        tokens = list(calendars.active_tokens(self.request.user).order_by("-created_at", "-pk"))
        rows = [{"token": t, "url": calendars.feed_url(t), "label": calendars.feed_label(t)} for t in tokens]
        return render(self.request, "inspections/approval/feeds.html", {"rows": rows, "form": form}, status=status)


class CalendarFeed(View):
    """The feed itself: no session; its key is the door. Unknown or revoked: 404."""

    def get(self, request, token):
        found = calendars.token_for_key(token)
        if found is None:
            raise Http404
        response = HttpResponse(calendars.feed(found), content_type="text/calendar; charset=utf-8")
        response["Cache-Control"] = "private, no-cache"
        return response
