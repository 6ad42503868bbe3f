"""LOG-1: the kinds of rows the customer's history lists, one declarative entry each.

A kind says which rows a user may see (`rows(user)`, always through `visible()` or the owning app's
`selectors.visible_<rows>(user)`), which datetime column places a row on the timeline (`at`), how a row is reached
from a customer and from a project (`customer`, `project`: lookups on its model), the columns one line shows
(`columns`, read with `.values()`) and how they become the line's title, state, actor and link. The timeline
(history/timeline.py) reads each selected kind with one query ordered by (at, id) and merges them; nothing else here
touches the database.

Adding a kind is one `register(Kind(...))` call below, or in the owning app (`history.sources.register`).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.accounts.models import DISPLAY_NAME_FIELDS, display_name
from aftersales.core.scoping import visible


@dataclass(frozen=True)
class Kind:
    slug: str                                   # also the tie-breaker of equal times: keep it [a-z_]
    label: object                               # translated (lazy)
    rows: Callable[[object], QuerySet]          # what `user` may see of this kind
    at: str                                     # the DateTimeField placing a row on the timeline (never null)
    customer: str                               # lookup of the customer's id
    project: str                                # lookup of the project's id
    at_from: object = None                      # or: an expression annotated as `at` (when the time is several columns)
    columns: dict = field(default_factory=dict)  # alias -> lookup, read with .values()
    title: Callable[[dict], str] = str
    url: Callable[[dict], str] = lambda row: ""
    state: str | None = None                    # alias in `columns` whose value is a choice of `states`
    states: object = None                       # the TextChoices of the state
    actor: str | None = None                    # lookup of the acting user (FK path), shown by display name
    summary: str | None = None                  # alias in `columns` shown under the title (first 200 characters)

    def values(self) -> dict:
        """The .values() expressions of one line (aliases → lookups)."""
        wanted = dict(self.columns)
        if self.actor:
            wanted |= {f"actor_{name}": f"{self.actor}__{name}" for name in DISPLAY_NAME_FIELDS}
        return wanted

    def state_label(self, row: dict) -> str:
        if not self.state:
            return ""
        value = row.get(self.state)
        return str(dict(self.states.choices).get(value, value or "")) if self.states else (value or "")

    def actor_name(self, row: dict) -> str:
        if not self.actor:
            return ""
        names = [row.get(f"actor_{name}") or "" for name in DISPLAY_NAME_FIELDS]
        return display_name(*names) if any(names) else ""


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    KINDS[kind.slug] = kind
    return kind


def choices() -> list[tuple[str, object]]:
    return [(kind.slug, kind.label) for kind in KINDS.values()]


def _url(name: str, column: str = "id", anchor: str = ""):
    return lambda row: reverse(name, args=[row[column]]) + (anchor.format(**row) if anchor else "")


# ------------------------------------------------------------------------------------------------ existing apps

def _register_existing() -> None:
    from aftersales.inspections.models import (
        Finding,
        FindingState,
        InspectionRound,
        RoundState,
    )
    from aftersales.repairs.models import Loan, RepairCase, RepairState
    from aftersales.service.models import (
        IncidentReport,
        ServiceRequest,
        State,
        WorkOrder,
        WorkOrderState,
    )
    from aftersales.training.models import SessionState, TrainingSession
    from aftersales.visits.models import ReturnVisit, Survey, SurveyState, VisitState

    def incident_reports(user):
        rows = visible(IncidentReport.objects.all(), user)
        return rows.exclude(state=WorkOrderState.DRAFT) if user.customer_id else rows  # as the request page

    register(Kind(
        "request", _("Service request"), lambda user: visible(ServiceRequest.objects.all(), user),
        at="created_at", customer="customer_id", project="project_id",
        columns={"number": "number", "text": "title", "st": "state"},
        title=lambda row: f"{row['number']} {row['text']}", url=_url("service:request_detail"),
        state="st", states=State, actor="reporter"))
    register(Kind(
        "work_order", _("Work order"), lambda user: visible(WorkOrder.objects.all(), user),
        at="created_at", customer="request__customer_id", project="request__project_id",
        columns={"number": "request__number", "request": "request_id", "st": "state", "text": "actions"},
        title=lambda row: f"{row['number']} · {_('Work order')}", url=_url("service:request_detail", "request"),
        state="st", states=WorkOrderState, actor="engineer", summary="text"))
    register(Kind(
        "incident_report", _("Incident report"), incident_reports,
        at="created_at", customer="request__customer_id", project="request__project_id",
        columns={"number": "request__number", "request": "request_id", "st": "state", "text": "cause"},
        title=lambda row: f"{row['number']} · {_('Incident report')}", url=_url("service:request_detail", "request"),
        state="st", states=WorkOrderState, actor="author", summary="text"))
    register(Kind(
        "repair", _("Repair case"), lambda user: visible(RepairCase.objects.all(), user),
        at="opened_at", customer="customer_id", project="device__project_id",
        columns={"serial": "device__serial_number", "st": "state", "text": "fault"},
        title=lambda row: f"RP{row['id']:06d} {row['serial']}", url=_url("repairs:case_detail"),
        state="st", states=RepairState, actor="opened_by", summary="text"))
    register(Kind(
        "loan", pgettext_lazy("history kind", "Spare unit lent"), lambda user: visible(Loan.objects.all(), user),
        at="lent_at", customer="case__customer_id", project="case__device__project_id",
        columns={"case": "case_id", "model": "unit_model", "serial": "unit_serial", "returned": "returned_at"},
        title=lambda row: f"{row['model']} {row['serial']}",
        url=_url("repairs:case_detail", "case", "#loan-{id}"), actor="lent_by"))
    register(Kind(
        "round", pgettext_lazy("history kind", "Inspection round"), lambda user: visible(InspectionRound.objects.all(), user),
        # when it was done (or started, or marked missed); a round not yet worked on, when it was planned
        at="history_at", at_from=Coalesce("completed_at", "started_at", "missed_at", "created_at"),
        customer="customer_id", project="project_id",
        columns={"plan": "plan__name", "due": "due_on", "st": "state", "text": "summary"},
        title=lambda row: f"XJ{row['id']:06d} {row['plan']} · {row['due']:%Y-%m-%d}", url=_url("inspections:round_detail"),
        state="st", states=RoundState, actor="engineer", summary="text"))
    register(Kind(
        "finding", _("Inspection finding"), lambda user: visible(Finding.objects.all(), user),
        at="found_at", customer="customer_id", project="round__project_id",
        columns={"round": "round_id", "item": "item__label", "serial": "device__serial_number", "st": "state"},
        title=lambda row: f"{row['serial']} · {row['item']}",
        url=_url("inspections:findings", "round", "#finding-{id}"), state="st", states=FindingState,
        actor="handled_by"))
    register(Kind(
        "visit", _("Return visit"), lambda user: visible(ReturnVisit.objects.all(), user),
        # when it took place, else when it was planned
        at="history_at", at_from=Coalesce("visited_at", "created_at"), customer="customer_id", project="project_id",
        columns={"due": "due_on", "st": "state", "text": "purpose"},
        title=lambda row: f"HF{row['id']:06d} · {row['due']:%Y-%m-%d}", url=_url("visits:visit_detail"),
        state="st", states=VisitState, actor="done_by", summary="text"))
    register(Kind(
        "survey", _("System operation survey"), lambda user: visible(Survey.objects.all(), user),
        at="history_at", at_from=Coalesce("answered_at", "surveyed_at", "sent_at", "created_at"),
        customer="customer_id", project="project_id",
        columns={"period": "period", "name": "project_name", "st": "state", "text": "remarks"},
        title=lambda row: f"{row['name']} · {row['period']:%Y-%m}", url=_url("visits:survey_detail"),
        state="st", states=SurveyState, actor="answered_by", summary="text"))
    register(Kind(
        "training", pgettext_lazy("history kind", "Training"), lambda user: visible(TrainingSession.objects.all(), user),
        at="starts_at", customer="customer_id", project="project_id",
        columns={"text": "title", "st": "state"},
        title=lambda row: f"PX{row['id']:05d} {row['text']}", url=_url("training:session_detail"),
        state="st", states=SessionState, actor="planned_by"))



# ------------------------------------------------------------------------------------------------ issue 25 apps

def _register_issue_25() -> None:
    from aftersales.changes.models import NoticeState
    from aftersales.changes.selectors import visible_notices
    from aftersales.documents.models import Visibility
    from aftersales.documents.selectors import visible_versions
    from aftersales.journal.selectors import visible_entries
    from aftersales.proposals.models import HazardState, ProposalState
    from aftersales.proposals.selectors import visible_hazard_reports, visible_proposals

    register(Kind(
        "log_entry", pgettext_lazy("history kind", "Daily log"), visible_entries,
        at="created_at", customer="project__customer_id", project="project_id",
        columns={"day": "day", "text": "what", "place": "place"},
        title=lambda row: f"{row['day']:%Y-%m-%d} {row['text'][:60]}",
        url=lambda row: f"{reverse('journal:entries')}?month={row['day']:%Y-%m}#entry-{row['id']}",
        actor="author", summary="place"))
    register(Kind(
        "document", pgettext_lazy("history kind", "Document version"), visible_versions,
        at="created_at", customer="document__project__customer_id", project="document__project_id",
        columns={"document": "document_id", "name": "document__title", "number": "number",
                 "vis": "document__visibility", "text": "note"},
        title=lambda row: f"{row['name']} v{row['number']}",
        url=_url("documents:document_detail", "document", "#v{number}"),
        state="vis", states=Visibility, actor="author", summary="text"))
    register(Kind(
        "change", _("Change notice"), visible_notices,
        at="submitted_at", customer="customer_id", project="project_id",
        columns={"text": "title", "st": "state", "desc": "description"},
        title=lambda row: f"BG{row['id']:05d} {row['text']}", url=_url("changes:notice_detail"),
        state="st", states=NoticeState, actor="submitted_by", summary="desc"))
    register(Kind(
        "hazard", _("Hidden-danger report"), visible_hazard_reports,
        at="created_at", customer="customer_id", project="project_id",
        columns={"text": "title", "st": "state", "desc": "description"},
        title=lambda row: f"YH{row['id']:05d} {row['text']}", url=_url("proposals:hazard_detail"),
        state="st", states=HazardState, actor="author", summary="desc"))
    register(Kind(
        "proposal", pgettext_lazy("history kind", "Proposal"), visible_proposals,
        at="created_at", customer="customer_id", project="project_id",
        columns={"text": "title", "st": "state", "desc": "background"},
        title=lambda row: f"FA{row['id']:05d} {row['text']}", url=_url("proposals:proposal_detail"),
        state="st", states=ProposalState, actor="author", summary="desc"))


_register_existing()
_register_issue_25()
