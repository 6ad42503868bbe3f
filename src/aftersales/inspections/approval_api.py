"""The approval gate over the API (INS-2, issue 23 §2): /api/inspection-approvals/ lists the rounds of the caller's
scope waiting for the customer's approval; /api/inspection-approvals/{round}/ shows one round's gate — the agreed
window, every proposal (who, when, how answered) and the approval lines of its timeline (approvals, overrides with
their reason), for reports — and its moves:

- POST send-window (our side: the desk or the round's engineer; the round's `version`),
- POST accept (our side: the customer's open window; `version`),
- POST approve / propose (the customer's contacts: our open window).

A stale `version` or a move not possible now is a 409 with nothing written; another customer's round a 404; a window
outside the round's period a 400 naming the field."""

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.core.api_base import AuditActorMixin, ErrorOut
from aftersales.core.api_settings import VerbPermissions
from aftersales.core.errors import IllegalTransition

from . import approval_selectors, approvals, selectors
from .models import EventKind, InspectionRound, RoundEvent, WindowProposal

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
VERSION = {"min_value": 1, "max_value": 2**31 - 1, "help_text": "The round's version you saw; a stale one is a 409."}
GATE_EVENTS = (EventKind.APPROVAL_REQUESTED, EventKind.WINDOW_PROPOSED, EventKind.WINDOW_ACCEPTED, EventKind.APPROVE,
               EventKind.OVERRIDE_APPROVAL)


class ProposalOut(serializers.ModelSerializer):
    proposed_by = serializers.CharField(source="proposed_by.display_name", default=None)
    answered_by = serializers.CharField(source="answered_by.display_name", default=None)

    class Meta:
        model = WindowProposal
        fields = ["id", "number", "side", "state", "starts_at", "ends_at", "scope", "downtime_minutes", "note",
                  "proposed_by", "proposed_by_name", "proposed_at", "via", "answered_at", "answered_by",
                  "answered_by_name", "answered_via", "reminders_sent"]


class GateEventOut(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.display_name", default=None)

    class Meta:
        model = RoundEvent
        fields = ["id", "kind", "at", "actor", "note", "data"]


class WindowOut(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class RoundApprovalOut(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    plan_name = serializers.CharField(source="plan.name", read_only=True)
    approved_by = serializers.CharField(source="approved_by.display_name", default=None)
    overridden_by = serializers.CharField(source="overridden_by.display_name", default=None)
    turn = serializers.SerializerMethodField(help_text="Whose move: `customer` or `provider`; null once decided.")
    agreed_window = serializers.SerializerMethodField()
    proposals = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()
    invite_url = serializers.SerializerMethodField()

    class Meta:
        model = InspectionRound
        fields = ["id", "number", "plan", "plan_name", "project", "customer", "period_start", "window_end", "due_on",
                  "state", "needs_approval", "approved_at", "approved_by", "overridden_at", "overridden_by",
                  "override_reason", "version", "turn", "agreed_window", "proposals", "events", "invite_url"]

    def get_turn(self, round_) -> str | None:
        return approval_selectors.turn_of(round_) if round_.state == "awaiting_approval" else None

    def get_agreed_window(self, round_) -> dict | None:
        agreed = approval_selectors.agreed_proposal(round_)
        return WindowOut(agreed).data if agreed else None

    def get_proposals(self, round_) -> list[dict]:
        return ProposalOut(approval_selectors.proposals_of(round_), many=True).data

    def get_events(self, round_) -> list[dict]:
        events = getattr(round_, "gate_events", None)
        if events is None:
            return []
        return GateEventOut(events, many=True).data

    def get_invite_url(self, round_) -> str:
        from django.urls import reverse

        return reverse("inspections:round_invite", args=[round_.pk])


class SendWindowIn(serializers.Serializer):
    version = serializers.IntegerField(**VERSION)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    scope = serializers.CharField(max_length=4000, help_text="What will be done: cleaning, maintenance, replacement.")
    downtime_minutes = serializers.IntegerField(min_value=0, max_value=approvals.MAX_DOWNTIME_MINUTES, required=False,
                                                allow_null=True, default=None)
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class AcceptIn(serializers.Serializer):
    version = serializers.IntegerField(**VERSION)


class ApproveIn(serializers.Serializer):
    pass


class ProposeIn(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class RoundApprovalViewSet(AuditActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           viewsets.GenericViewSet):
    """INS-2: the approval gate of inspection rounds (scoped: customers their own, engineers their assigned)."""

    queryset = InspectionRound.objects.all()  # always narrowed by get_queryset()
    serializer_class = RoundApprovalOut
    permission_classes = [VerbPermissions]
    filter_backends = []

    def get_queryset(self):
        if self.action == "list":
            return approval_selectors.awaiting(self.request.user).select_related("approved_by", "overridden_by")
        return approval_selectors.with_proposals(selectors.round_list(self.request.user)).order_by("due_on", "pk")

    def round_out(self, pk) -> dict:
        try:
            round_ = (approval_selectors.with_proposals(selectors.round_list(self.request.user))
                      .select_related("approved_by", "overridden_by").get(pk=pk))
        except (InspectionRound.DoesNotExist, ValueError):
            raise Http404 from None
        round_.gate_events = list(RoundEvent.objects.filter(round=round_, kind__in=GATE_EVENTS)
                                  .select_related("actor").order_by("at", "pk"))
        return RoundApprovalOut(round_, context=self.get_serializer_context()).data

    def get_round(self) -> InspectionRound:
        try:
            return approval_selectors.round_for_approval(self.request.user, self.kwargs["pk"])
        except (InspectionRound.DoesNotExist, ValueError):
            raise Http404 from None

    @extend_schema(responses={200: RoundApprovalOut, 404: ErrorOut})
    def retrieve(self, request, *args, **kwargs):
        return Response(self.round_out(self.kwargs["pk"]))

    @extend_schema(request=SendWindowIn, responses={200: RoundApprovalOut, **ERRORS})
    @action(detail=True, methods=["post"], url_path="send-window", url_name="send-window")
    def send_window(self, request, pk=None):
        """Our side puts a window to the customer (or answers theirs with another)."""
        round_ = self.get_round()
        data = SendWindowIn(data=request.data)
        data.is_valid(raise_exception=True)
        approvals.send_window(round=round_, by=request.user, via=approvals.VIA_API, **data.validated_data)
        return Response(self.round_out(round_.pk))

    @extend_schema(request=AcceptIn, responses={200: RoundApprovalOut, **ERRORS})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Our side accepts the customer's window: agreed, and the round is approved."""
        round_ = self.get_round()
        data = AcceptIn(data=request.data)
        data.is_valid(raise_exception=True)
        approvals.accept_window(round=round_, by=request.user, via=approvals.VIA_API, **data.validated_data)
        return Response(self.round_out(round_.pk))

    def pending(self, round_):
        pending = approval_selectors.open_proposal(round_)
        if pending is None:
            raise IllegalTransition(_("This round has no window waiting for the customer's answer."))
        return pending

    @extend_schema(request=ApproveIn, responses={200: RoundApprovalOut, **ERRORS})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """The customer's contact approves our window: the round is approved."""
        round_ = self.get_round()
        approvals.approve_window(proposal=self.pending(round_), by=request.user, via=approvals.VIA_API)
        return Response(self.round_out(round_.pk))

    @extend_schema(request=ProposeIn, responses={200: RoundApprovalOut, **ERRORS})
    @action(detail=True, methods=["post"])
    def propose(self, request, pk=None):
        """The customer's contact proposes another window; it goes back to our side."""
        round_ = self.get_round()
        data = ProposeIn(data=request.data)
        data.is_valid(raise_exception=True)
        approvals.propose_window(proposal=self.pending(round_), by=request.user, via=approvals.VIA_API,
                                 **data.validated_data)
        return Response(self.round_out(round_.pk))


def register(router) -> None:
    router.register("inspection-approvals", RoundApprovalViewSet, basename="inspectionapproval")
