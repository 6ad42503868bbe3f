"""SEC-1: every URL and API endpoint, discovered from the URL configuration, as every role.

Rules checked for each GET:
- anonymous: pages redirect to the login page; the API answers 401/403;
- a user without the view's permission gets 403;
- an object outside the user's scope (another customer's, another branch's) is a 404, exactly like a
  missing one, in pages and in the API;
- everything else is a 200.
A new URL is covered without editing this file; a URL with a parameter this file cannot fill fails loudly.
"""

import uuid
from datetime import date, datetime, time, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from aftersales.accounts import roles
from aftersales.accounts.models import Branch, OnCallShift, User
from aftersales.assets.models import Device, DeviceCategory, Manufacturer
from aftersales.billing.services import issue_for_repair
from aftersales.contracts import services as contracts
from aftersales.contracts.models import CoveragePeriod, ServiceContract
from aftersales.customers.models import Customer, DeadlineExtension, Milestone, Project
from aftersales.intake.alarms.keys import create_key
from aftersales.core import clock
from aftersales.inspections import approvals, calendars
from aftersales.inspections import reports as inspection_reports
from aftersales.inspections import services as inspections
from aftersales.inspections.models import Answer, ChecklistTemplate, InspectionPlan, InspectionRound
from aftersales.intake.models import AlarmEvent, AlarmOutcome, InboundMail, IntegrationKey, MailState
from aftersales.parts import services as parts
from aftersales.proof import facts as proof_facts
from aftersales.proof.models import MonthlyReport
from aftersales.service.reports import Period
from aftersales.parts.models import Location, Movement, Part, StockSlot
from aftersales.repairs import services as repairs
from aftersales.repairs.models import Loan, RepairCase
from aftersales.service import verbs
from aftersales.service.confirmation import confirmation_token, incident_confirmation_token
from aftersales.service.models import (
    Attachment, CalendarDay, EscalationRule, IncidentReport, ServiceRequest, SlaPolicy, WorkCalendar, WorkOrder,
)
from aftersales.training import services as training
from aftersales.training.links import feedback_token
from aftersales.training.models import HandoverItem, TrainingMaterial, TrainingSession

from aftersales.visits import links as visit_links
from aftersales.visits import services as visits
from aftersales.visits.models import FollowUp, ReturnVisit, Survey, VisitSchedule
from aftersales.documents import services as documents  # issue 25 §3
from aftersales.documents.models import Document, DocumentVersion

from .factories import MilestoneFactory, OnCallShiftFactory, StaffFactory, current_version

ROLES = ["anonymous", "customer_user_a", "customer_user_b", "engineer", "dispatcher", "manager", "general_manager", "admin_user"]
SKIPPED_PREFIXES = ("admin:",)  # Django's admin has its own tests; its index is checked below
PUBLIC = {"login", "api-schema", "api-docs", "set_language", "api-token", "service:confirm_by_link",
          "service:confirm_incident_by_link", "accounts:password_reset", "accounts:password_reset_done",
          "accounts:password_reset_confirm", "accounts:password_reset_complete",
          "training:feedback_by_link"}
# The second factor: its page is for staff only; the code page sends a session that owes no code on (to `next`).
PUBLIC = PUBLIC | {"visits:survey_by_link"}  # issue 23 §8: the survey's no-account link
# issue 23 §2, §10: the approval link, the calendar invitation of the mails, a calendar feed (its key is the door)
PUBLIC = PUBLIC | {"inspections:approval_by_link", "inspections:invite_by_link", "inspections:calendar_feed"}
PUBLIC = PUBLIC | {"inspections:report_by_link"}  # issue 23 §6: the inspection report's confirmation link
PUBLIC |= {"proposals:hazard_by_link", "proposals:proposal_by_link"}  # issue 25 §4-§5: the written-answer links
STAFF_ONLY = {"accounts:two_factor"}
STAFF_ONLY |= {"reports:report_costs"}  # issue 24 §2: our repair cost is not the customer's business
NOTHING_OWED_REDIRECTS = {"accounts:two_factor_verify"}
POST_ONLY = {"logout", "set_language", "api-token"}
POST_ONLY |= {"proof:generate", "proof:regenerate"}  # issue 24 §4: staff's buttons on the report pages
POST_ONLY |= {"knowledge:submit", "knowledge:publish", "knowledge:send_back", "knowledge:retire", "knowledge:helpful", "knowledge:propose"}  # issue 25 §6
POST_ONLY |= {"journal:start_day", "journal:submit_day", "journal:entry_remove", "replies:used"}  # issue 25 §2, §7
POST_ONLY |= {"proposals:option_remove", "proposals:step_update"}  # issue 25 §5: buttons on the proposal page
# Public pages reached from a printed label: the scan page shows a public form (or sends a user who may
# report on the device to the portal); the follow page knows only its own request's token, and the walk's
# token (a work order's) is not one: 404.
# Public without a login: label pages, and the health check (503 while no worker has beaten yet).
LABEL_PAGES = {"intake:label_scan": {200, 302}, "intake:report_follow": {404}, "health": {200, 503}}
NEEDS_SUBJECT = {"history-list"}  # issue 25 §1: the API names its ?customer= or ?project= (bare: a 400 once logged in)


def get_allowed(pattern) -> bool:
    actions = getattr(pattern.callback, "actions", None)  # DRF viewset routes
    return actions is None or "get" in actions


def walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", list(entry.pattern.regex.groupindex), entry


def model_of(pattern: URLPattern):
    callback = pattern.callback
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    model = getattr(view_class, "model", None)
    if model is None and getattr(view_class, "queryset", None) is not None:
        model = view_class.queryset.model
    return model, view_class


def required_permissions(view_class, pattern) -> list[str]:
    perms = getattr(view_class, "permission_required", None)
    if perms:
        return [perms] if isinstance(perms, str) else list(perms)
    queryset = getattr(view_class, "queryset", None)
    actions = getattr(pattern.callback, "actions", None)
    if queryset is not None and actions:
        meta = queryset.model._meta
        verb = getattr(getattr(view_class, actions.get("get", ""), None), "required_permission", None)
        return [f"{meta.app_label}.view_{meta.model_name}", *([verb] if verb else [])]
    return []


@pytest.fixture
def world(customer_user_a, customer_user_b, engineer, dispatcher, manager, general_manager, admin_user,
          project_a, project_b, device_a, device_b, branch_a, branch_b):
    milestone_a = MilestoneFactory(project=project_a)
    milestone_b = MilestoneFactory(project=project_b)
    extension_a = DeadlineExtension.objects.create(milestone=milestone_a, days=3, reason="业主原因", recorded_by=dispatcher)
    extension_b = DeadlineExtension.objects.create(milestone=milestone_b, days=3, reason="业主原因", recorded_by=dispatcher)
    shift_a = OnCallShiftFactory(user=engineer, branch=branch_a, start_time=time(8), end_time=time(8))
    shift_b = OnCallShiftFactory(user=general_manager, branch=branch_b, start_time=time(8), end_time=time(8))
    requests, work_orders, files, reports = [], [], [], []
    mails, keys, alarm_events = [], [], []
    for n, customer in enumerate((project_a.customer, project_b.customer)):
        mails.append(InboundMail.objects.create(message_id=f"<walk{n}@x>", raw=b"From: a@b\r\n\r\nhi",
                                                received_at=timezone.now(), state=MailState.TRIAGE, customer=customer))
        key, _plain = create_key(by=admin_user, customer=customer, name=f"walk {n}")
        keys.append(key)
        alarm_events.append(AlarmEvent.objects.create(key=key, customer=customer, received_at=timezone.now(), payload={},
                                                      alarm_type="offline", raised=True, outcome=AlarmOutcome.UNMATCHED))
    for project, reporter in ((project_a, customer_user_a), (project_b, customer_user_b)):
        request = verbs.open_request(by=reporter, project=project, priority="general", channel="portal",
                                     title="录像丢失", description="三号 NVR")
        verbs.reply(request=request, by=admin_user, version=current_version(request), mode="remote", plan="远程处理")
        work_orders.append(verbs.submit_work_order(request=request, by=admin_user, version=current_version(request),
                                                   actions="重启", minutes_spent=5, result="solved"))
        files.append(Attachment.objects.create(request=request, file=ContentFile(b"log line\n", name="nvr.log"),
                                               original_name="nvr.log", content_type="text/plain", size=9,
                                               uploaded_at=request.created_at))
        requests.append(request)
        report = verbs.save_incident_report(request=request, by=admin_user, version=None, cause="电源", impact="中断",
                                            timeline="09:00", fix="更换", prevention="巡检")
        # submitted: drafts are staff-only
        reports.append(verbs.submit_incident_report(report=report, by=admin_user, version=report.version))
    # issue 22 §5: a part (the catalogue is shared), each branch's warehouse with a movement, the engineer's van
    part = Part.objects.create(manufacturer=device_a.manufacturer, part_number="WALK-1", name="电源适配器 12V",
                               purchase_cost=45)
    stock_rows = []
    for branch in (branch_a, branch_b):
        warehouse = Location.objects.create(kind="warehouse", name=f"仓库 {branch.code}", branch=branch, is_main=True)
        stock_rows.append(parts.receive(part=part, location=warehouse, quantity=3, by=admin_user))
    Location.objects.create(kind="van", name="随车", branch=branch_a, engineer=engineer)
    # issue 22 §2-§4: a repair case of each world's device, each with a spare unit lent
    repair_cases = tuple(repairs.open_case(by=admin_user, device=device, fault="无图像") for device in (device_a, device_b))
    loans = tuple(repairs.lend_unit(case=case, by=admin_user, version=case.version, unit_serial=f"WALK-{case.pk}",
                                    unit_model="备用机", due_back_on=timezone.localdate()) for case in repair_cases)
    for case in repair_cases:  # issue 24 §3: each case's charge sheet, so its printable form exists
        issue_for_repair(case)
    # issue 22 §1: a maintenance contract of each world's project, with its first period
    service_contracts = tuple(contracts.create_contract(by=admin_user, project=project, number=f"WB-WALK-{project.pk}",
                                                        starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31))
                              for project in (project_a, project_b))
    # issue 23 §9: a training session of each world's project, held (its feedback link valid), with a material, and
    # a handover checklist item
    sessions, materials, items = [], [], []
    for project in (project_a, project_b):
        start = timezone.now() - timedelta(hours=2)
        session = training.plan_session(by=admin_user, project=project, title="交接培训", kind="handover",
                                        venue="on_site", starts_at=start, ends_at=start + timedelta(hours=1),
                                        content="回放", vendor_trainers="厂商 王工",
                                        attendees=[training.AttendeeIn("李强")])
        sessions.append(training.record_held(session=session, by=admin_user, version=session.version,
                                             present=list(session.attendees.all())))
        materials.append(training.add_material(session=session, by=admin_user,
                                               upload=ContentFile(b"%PDF-1.4 walk", name="walk.pdf")))
        items.append(training.add_checklist_item(project=project, by=admin_user, capability="录像回放"))
    # issue 23 §7-§8: each world's visit schedule (with its visit), a visit with a follow-up, a survey mailed
    visit_rows = {VisitSchedule: [], ReturnVisit: [], FollowUp: [], Survey: [], "survey_token": []}
    for project, contact in ((project_a, customer_user_a), (project_b, customer_user_b)):
        contact.email = f"{contact.username}@walk.example"
        contact.save(update_fields=["email"])
        visit_rows[VisitSchedule].append(visits.create_schedule(by=admin_user, project=project))
        visit = visits.plan_visit(by=admin_user, project=project, due_on=date(2026, 1, 5))
        visit_rows[ReturnVisit].append(visit)
        visit_rows[FollowUp].append(visits.add_follow_up(visit=visit, by=admin_user, description="回访跟进",
                                                         owner=admin_user, due_on=date(2026, 1, 9)))
        survey = visits.create_survey(by=admin_user, project=project, send=True)
        visit_rows[Survey].append(survey)
        visit_rows["survey_token"].append(Token(visit_links.survey_token(survey), project.customer_id))
    # issue 23 §1, §3: a checklist (shared), a plan of each world's project with its round started (the world's
    # engineer has branch A's) and answered with a photo
    checklist = inspections.create_checklist(by=admin_user, category=device_a.category, name="巡检",
                                             items=[{"kind": "pass_fail", "label": "图像清晰"}])
    inspection_rows = {InspectionPlan: [], InspectionRound: [], Answer: []}
    gate_tokens = {"approval_token": [], "invite_token": [], "feed_token": [], "report_token": []}
    engineer_b = StaffFactory(username="engineer_b", branch=branch_b, role=roles.ENGINEER)
    for project, field in ((project_a, engineer), (project_b, engineer_b)):
        plan = inspections.create_plan(by=admin_user, project=project, name="月度巡检", cadence="monthly",
                                       starts_on=timezone.localdate(), checklists=[checklist], engineers=[field])
        round_ = plan.rounds.order_by("due_on").first()
        round_ = inspections.start_round(round=round_, by=field, version=round_.version)
        check = round_.checks.get()
        inspection_rows[Answer].append(inspections.record_answer(
            round=round_, by=field, device=check.device, item=check.checklist.items.get(), client_id=uuid.uuid4(),
            passed=True, photo=ContentFile(PNG, name="p.png"))[0])
        # issue 23 §6: the round completed and its report sent to the customer (the confirmation link is valid)
        round_ = inspections.complete_round(round=round_, by=field, version=round_.version, summary="正常")
        report = inspection_reports.issue_report(round=round_, by=field, evaluation="良好")
        gate_tokens["report_token"].append(Token(inspection_reports.report_token(report), project.customer_id))
        inspection_rows[InspectionPlan].append(plan)
        inspection_rows[InspectionRound].append(round_)
        # issue 23 §2, §10: a plan needing approval with next month's window sent; the calendar invitation; a feed
        gated = inspections.create_plan(by=admin_user, project=project, name="季度保养", cadence="monthly",
                                        starts_on=timezone.localdate(), checklists=[checklist], engineers=[field],
                                        needs_approval=True)
        later = gated.rounds.order_by("due_on")[1]
        start = datetime.combine(later.period_start, time(9), tzinfo=clock.SHANGHAI)
        proposal = approvals.send_window(round=later, by=admin_user, version=later.version, starts_at=start,
                                         ends_at=start + timedelta(hours=3), scope="清洁镜头")
        gate_tokens["approval_token"].append(Token(approvals.approval_token(proposal), project.customer_id))
        gate_tokens["invite_token"].append(Token(approvals.invite_token(round_), project.customer_id))
        contact = customer_user_a if project == project_a else customer_user_b
        gate_tokens["feed_token"].append(calendars.create_token(user=contact).key)  # plain: anyone holding it
    # issue 24 §4: each customer's monthly report (its facts built with its contact's scope; a stand-in PDF)
    this_month = Period.containing(timezone.localdate())  # the world's rows: every section has some to link
    monthly = tuple(MonthlyReport.objects.create(
        customer=contact.customer, year=this_month.start.year, month=this_month.start.month,
        generated_at=timezone.now(), scope_user=contact,
        facts=proof_facts.build(contact.customer, this_month, contact), digest="0" * 64,
        pdf=ContentFile(b"%PDF-1.4 walk", name="walk.pdf")) for contact in (customer_user_a, customer_user_b))
    issue25 = {}  # issue 25: each new app's rows, filled below
    # issue 25 §2: a day of each branch's engineer with one entry (A's visible to the customer, B's internal)
    from aftersales.journal import services as journal
    from aftersales.journal.models import DailyLog, LogEntry
    days, entries = [], []
    for field, project, shown in ((engineer, project_a, True), (User.objects.get(username="engineer_b"), project_b, False)):
        day = journal.start_day(by=field, day=timezone.localdate())
        entries.append(journal.add_entry(log=day, by=field, version=day.version, project=project, what="巡检并调整镜头",
                                         minutes=90, visible_to_customer=shown))
        days.append(day)
    issue25[DailyLog], issue25[LogEntry] = tuple(days), tuple(entries)
    # issue 25 §3: a document of each project, A's shared with its customer, B's internal (its customer sees none)
    walk_documents = tuple(documents.create_document(
        by=admin_user, project=project, title="维护规程", kind="procedure", visibility=visibility,
        upload=ContentFile("一、日常巡检\n".encode(), name="维护规程.md"))
        for project, visibility in ((project_a, "shared"), (project_b, "internal")))
    issue25[Document] = walk_documents
    issue25[DocumentVersion] = tuple(document.versions.get() for document in walk_documents)
    # issue 25 §4: a change notice of each customer, with a compatibility test carrying an evidence file
    from aftersales.changes import services as changes
    from aftersales.changes.models import ChangeNotice, CompatibilityTest
    change_rows = {ChangeNotice: [], CompatibilityTest: []}
    for project, contact in ((project_a, customer_user_a), (project_b, customer_user_b)):
        start = timezone.now() + timedelta(days=3)
        notice = changes.submit_notice(by=contact, project=project, kind="patch", title="安装补丁", description="服务器补丁",
                                       window_starts_at=start, window_ends_at=start + timedelta(hours=2))
        change_rows[ChangeNotice].append(notice)
        change_rows[CompatibilityTest].append(changes.record_test(
            notice=notice, by=admin_user, version=notice.version, subject="实验室测试", result="passed",
            evidence_file=ContentFile(b"%PDF-1.4 walk", name="walk.pdf")))
    issue25.update({key: tuple(rows) for key, rows in change_rows.items()})
    # issue 25 §4-§5: a hidden-danger report awaiting confirmation and a proposal awaiting choice in each world (the
    # customer sees both, and their signed links are valid)
    from aftersales.proposals import links as proposal_links
    from aftersales.proposals import services as proposals
    from aftersales.proposals.models import HazardReport, Proposal
    proposal_rows = {HazardReport: [], Proposal: [], "hazard_token": [], "proposal_token": []}
    for project in (project_a, project_b):
        hazard = proposals.create_hazard_report(by=admin_user, project=project, title="UPS老化", risk="high",
                                                description="续航不足")
        hazard = proposals.send_hazard_report(report=hazard, by=admin_user, version=hazard.version)
        plan = proposals.create_proposal(by=admin_user, project=project, kind="solution", title="更换电池")
        proposals.add_option(proposal=plan, by=admin_user, version=plan.version, title="原厂电池")
        plan = proposals.send_proposal(proposal=plan, by=admin_user, version=plan.version + 1)
        proposal_rows[HazardReport].append(hazard)
        proposal_rows[Proposal].append(plan)
        proposal_rows["hazard_token"].append(Token(proposal_links.hazard_token(hazard), project.customer_id))
        proposal_rows["proposal_token"].append(Token(proposal_links.proposal_token(plan), project.customer_id))
    issue25.update({key: tuple(rows) for key, rows in proposal_rows.items()})
    # issue 25 §6: articles are shared by every branch; customers read only the published customer-visible (A's)
    from aftersales.knowledge import services as knowledge
    from aftersales.knowledge.models import Article
    knowledge_rows = []
    for shared in (True, False):
        article = knowledge.write_article(by=admin_user, title="录像丢失排查", symptom="回放无录像", fix="检查硬盘",
                                          customer_visible=shared)
        knowledge_rows.append(knowledge.publish(article=article, by=general_manager, version=article.version))
    issue25[Article] = tuple(knowledge_rows)
    # issue 25 §7: a canned reply of each branch
    from aftersales.replies import services as replies
    from aftersales.replies.models import CannedReply
    issue25[CannedReply] = tuple(replies.create_reply(by=admin_user, branch=branch, title="已受理", body="{单号} 已受理")
                                 for branch in (branch_a, branch_b))
    # (object in customer A / branch A's world, object in customer B / branch B's world)
    return {
        **issue25,
        MonthlyReport: monthly,
        **{key: tuple(rows) for key, rows in inspection_rows.items()},
        **{key: tuple(rows) for key, rows in gate_tokens.items()},
        ChecklistTemplate: (checklist, checklist),
        **{key: tuple(rows) for key, rows in visit_rows.items()},
        TrainingSession: tuple(sessions),
        TrainingMaterial: tuple(materials),
        HandoverItem: tuple(items),
        "training_token": tuple(Token(feedback_token(session), session.customer_id) for session in sessions),
        RepairCase: repair_cases,
        Loan: loans,
        Part: (part, part),
        Movement: tuple(stock_rows),
        Location: tuple(row.location for row in stock_rows),
        StockSlot: tuple(StockSlot.objects.get(part=part, location=row.location) for row in stock_rows),
        ServiceContract: service_contracts,
        CoveragePeriod: tuple(contract.periods.get() for contract in service_contracts),
        Customer: (project_a.customer, project_b.customer),
        Project: (project_a, project_b),
        Milestone: (milestone_a, milestone_b),
        DeadlineExtension: (extension_a, extension_b),
        Device: (device_a, device_b),
        Branch: (branch_a, branch_b),
        User: (engineer, general_manager),
        OnCallShift: (shift_a, shift_b),
        ServiceRequest: tuple(requests),
        WorkOrder: tuple(work_orders),
        Attachment: tuple(files),
        IncidentReport: tuple(reports),
        InboundMail: tuple(mails),
        IntegrationKey: tuple(keys),
        AlarmEvent: tuple(alarm_events),
        "token": (Token(confirmation_token(work_orders[0]), work_orders[0].request.customer_id),
                  Token(confirmation_token(work_orders[1]), work_orders[1].request.customer_id)),
        "incident_token": (Token(incident_confirmation_token(reports[0]), reports[0].request.customer_id),
                           Token(incident_confirmation_token(reports[1]), reports[1].request.customer_id)),
        "code": (device_a.label_code, device_b.label_code),
        DeviceCategory: (device_a.category, device_a.category),
        Manufacturer: (device_a.manufacturer, device_a.manufacturer),
        # issue 21 §6, configuration: calendars, their days and the policies are shared by every branch; a ladder's
        # steps belong to their branch
        WorkCalendar: tuple(WorkCalendar.objects.order_by("pk")[:2]),
        CalendarDay: tuple(CalendarDay.objects.order_by("pk")[:2]),
        SlaPolicy: (SlaPolicy.objects.get(is_default=True),) * 2,
        EscalationRule: (EscalationRule.objects.create(branch=branch_a, level=1, position="department_manager"),
                         EscalationRule.objects.create(branch=branch_b, level=1, position="general_manager")),
    }


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


class Token(str):
    """A signed link's token, knowing the customer it was sent to (another customer's contact is refused)."""

    def __new__(cls, value, customer_id):
        token = super().__new__(cls, value)
        token.customer_id = customer_id
        return token


REDIRECTS = {"landing",  # sends each role on to its own page (reports.views.landing_of)
             "service:search"}  # the top bar's search: on to the request found, or to the list (issue 21 §8)
REDIRECTS |= {"history:home"}  # issue 25 history: a contact to their customer's history, staff to the customer list
TOKEN_KEYS = {"service:confirm_incident_by_link": "incident_token",
              "training:feedback_by_link": "training_token"}  # else "token"

TOKEN_KEYS["visits:survey_by_link"] = "survey_token"
TOKEN_KEYS |= {"inspections:approval_by_link": "approval_token", "inspections:invite_by_link": "invite_token",
               "inspections:calendar_feed": "feed_token", "inspections:report_by_link": "report_token"}
TOKEN_KEYS |= {"proposals:hazard_by_link": "hazard_token", "proposals:proposal_by_link": "proposal_token"}  # issue 25


def sees(user, obj) -> bool:
    """Independent statement of SEC-1 for the objects of the world fixture."""
    if isinstance(obj, str):  # a signed token: public
        return True
    if type(obj).__name__ == "DailyLog":  # issue 25 §2: its author; the manager their branch's; gm and admin all
        return not user.customer_id and (obj.author_id == user.pk or user.username in ("gm", "admin")
                                         or (user.username == "manager" and obj.branch_id == user.branch_id))
    if type(obj).__name__ == "LogEntry":  # issue 25 §2: staff their branch's; customers their own, if shown to them
        if user.customer_id:
            return obj.project.customer_id == user.customer_id and obj.visible_to_customer
        return user.username in ("gm", "admin") or obj.project.branch_id == user.branch_id
    if isinstance(obj, (Document, DocumentVersion)):  # issue 25 §3: a customer's user sees shared documents only
        document = obj.document if isinstance(obj, DocumentVersion) else obj
        if user.customer_id:
            return document.project.customer_id == user.customer_id and document.visibility == "shared"
        return user.username in ("gm", "admin") or document.project.branch_id == user.branch_id
    if type(obj).__name__ in ("ChangeNotice", "CompatibilityTest"):  # issue 25 §4: customers their own, staff their branch
        notice = obj.notice if type(obj).__name__ == "CompatibilityTest" else obj
        if user.customer_id:
            return notice.project.customer_id == user.customer_id
        return user.username in ("gm", "admin") or notice.project.branch_id == user.branch_id
    if type(obj).__name__ in ("HazardReport", "Proposal"):  # issue 25 §4-§5: customers their own (sent), staff their branch
        if user.customer_id:
            return obj.customer_id == user.customer_id and obj.state != "draft"
        return user.username in ("gm", "admin") or obj.branch_id == user.branch_id
    if type(obj).__name__ == "Article":  # issue 25 §6: staff all; customers the published customer-visible only
        return not user.customer_id or (obj.state == "published" and obj.customer_visible)
    if type(obj).__name__ == "CannedReply":  # issue 25 §7: staff only; their branch's (gm and admin all)
        return not user.customer_id and (user.username in ("gm", "admin") or obj.branch_id == user.branch_id)
    if isinstance(obj, (InspectionPlan, InspectionRound, Answer, ChecklistTemplate)):  # issue 23 §1, §3
        if isinstance(obj, ChecklistTemplate):  # the company's own, shared by every branch: staff only
            return not user.customer_id
        row = obj.round if isinstance(obj, Answer) else obj
        if user.customer_id:
            return row.customer_id == user.customer_id
        # the world's branch-A round is its engineer's (an engineer sees the rounds assigned to them)
        return user.username in ("gm", "admin") or row.branch_id == user.branch_id
    if isinstance(obj, (VisitSchedule, ReturnVisit, FollowUp, Survey)):  # issue 23 §7-§8: the columns of the row
        if user.customer_id:
            return obj.customer_id == user.customer_id
        return user.username in ("gm", "admin") or obj.branch_id == user.branch_id
    if user.customer_id:
        customer = {Customer: lambda o: o.pk, Project: lambda o: o.customer_id, Device: lambda o: o.project.customer_id,
                    Milestone: lambda o: o.project.customer_id, DeadlineExtension: lambda o: o.milestone.project.customer_id,
                    ServiceRequest: lambda o: o.customer_id, WorkOrder: lambda o: o.request.customer_id,
                    IncidentReport: lambda o: o.request.customer_id,
                    Attachment: lambda o: o.request.customer_id,
                    ServiceContract: lambda o: o.project.customer_id,
                    CoveragePeriod: lambda o: o.contract.project.customer_id,
                    RepairCase: lambda o: o.customer_id, Loan: lambda o: o.case.customer_id,
                    TrainingSession: lambda o: o.customer_id, TrainingMaterial: lambda o: o.session.customer_id,
                    HandoverItem: lambda o: o.customer_id, MonthlyReport: lambda o: o.customer_id}
        return type(obj) in customer and customer[type(obj)](obj) == user.customer_id
    if user.username in ("gm", "admin") or type(obj) in (DeviceCategory, Manufacturer, WorkCalendar, CalendarDay,
                                                          SlaPolicy, Part):
        return True
    branch = {Customer: lambda o: o.branch_id, Project: lambda o: o.branch_id, Device: lambda o: o.project.branch_id,
              Milestone: lambda o: o.project.branch_id, DeadlineExtension: lambda o: o.milestone.project.branch_id,
              Branch: lambda o: o.pk, User: lambda o: o.branch_id, OnCallShift: lambda o: o.branch_id,
              ServiceRequest: lambda o: o.branch_id, WorkOrder: lambda o: o.request.branch_id,
              IncidentReport: lambda o: o.request.branch_id,
              ServiceContract: lambda o: o.project.branch_id, CoveragePeriod: lambda o: o.contract.project.branch_id,
              RepairCase: lambda o: o.branch_id, Loan: lambda o: o.case.branch_id,
              Attachment: lambda o: o.request.branch_id, EscalationRule: lambda o: o.branch_id,
              Movement: lambda o: o.location.branch_id, StockSlot: lambda o: o.location.branch_id,
              Location: lambda o: o.branch_id,
              TrainingSession: lambda o: o.branch_id, TrainingMaterial: lambda o: o.session.branch_id,
              HandoverItem: lambda o: o.branch_id, MonthlyReport: lambda o: o.customer.branch_id}
    return branch[type(obj)](obj) == user.branch_id


def cases(world):
    for name, params, pattern in walk(get_resolver().url_patterns):
        if name.startswith(SKIPPED_PREFIXES) or "format" in params:
            continue
        model, view_class = model_of(pattern)
        if not params:
            yield name, reverse(name), None, view_class, pattern
            continue
        if params == ["uidb64", "token"]:  # a password reset link: a wrong one shows "this link no longer works"
            yield name, reverse(name, kwargs={"uidb64": "MQ", "token": "wrong-token"}), None, view_class, pattern
            continue
        if params == ["figure"]:  # issue 24 §2: the rows behind a report's number (every figure is scoped)
            yield name, reverse(name, kwargs={"figure": "escalations"}), None, view_class, pattern
            continue
        assert params in (["pk"], ["token"], ["code"]), f"{name}: teach test_url_walk how to fill {params}"
        key = TOKEN_KEYS.get(name, params[0]) if params != ["pk"] else model
        assert key in world, f"{name}: teach test_url_walk the model {model}"
        for side, obj in zip(("own", "foreign"), world[key]):
            value = obj if isinstance(obj, str) else obj.pk
            yield f"{name}[{side}]", reverse(name, kwargs={params[0]: value}), obj, view_class, pattern


@pytest.mark.parametrize("role", ROLES)
def test_every_url_answers_as_expected_for_each_role(role, world, client, request):
    user = AnonymousUser() if role == "anonymous" else request.getfixturevalue(role)
    if role != "anonymous":
        client.force_login(user)
    failures = []
    checked = 0
    for label, url, obj, view_class, pattern in cases(world):
        base_name = label.split("[")[0]
        response = client.get(url)
        checked += 1
        is_api = url.startswith("/api/")
        if base_name in NEEDS_SUBJECT:
            expected = {401, 403} if role == "anonymous" else {400}
        elif base_name in LABEL_PAGES:
            expected = LABEL_PAGES[base_name]
        elif base_name in POST_ONLY:
            expected = {405, 302} if base_name == "set_language" else {405}  # set_language GET just redirects
        elif not get_allowed(pattern):  # POST-only API actions: refused before or after the permission check
            expected = {401, 403, 405} if role == "anonymous" else {403, 404, 405}
        elif role != "anonymous" and base_name in NOTHING_OWED_REDIRECTS:
            expected = {302}
        elif role != "anonymous" and base_name in STAFF_ONLY and user.customer_id:
            expected = {403}
        elif base_name in PUBLIC:
            expected = {200}
            if base_name == "login" and role != "anonymous":
                expected = {302}
            if isinstance(obj, Token) and getattr(user, "customer_id", None) not in (None, obj.customer_id):
                expected = {403}
        elif role == "anonymous":
            expected = {401, 403} if is_api else {302}
        elif base_name in REDIRECTS:
            expected = {302}
        elif obj is not None and not sees(user, obj):
            expected = {404} if all(user.has_perm(p) for p in required_permissions(view_class, pattern)) else {403, 404}
        elif not all(user.has_perm(p) for p in required_permissions(view_class, pattern)):
            expected = {403}
        else:
            expected = {200}
        if response.status_code not in expected:
            failures.append(f"{label} {url}: {response.status_code}, expected {sorted(expected)}")
        if role == "anonymous" and not is_api and base_name not in PUBLIC | POST_ONLY | set(LABEL_PAGES):
            assert response.headers["Location"].startswith("/login/"), url
    assert checked > 40, "the walk found suspiciously few URLs"
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("role", "url_name", "expected"),
    [
        # Explicit statements of the rules, independent of the walk's derivation.
        ("customer_user_a", "accounts:staff_list", 403),
        ("customer_user_a", "accounts:branch_list", 403),
        ("customer_user_a", "accounts:roster", 403),
        ("customer_user_a", "assets:device_list", 200),
        ("customer_user_a", "customers:customer_create", 403),
        ("engineer", "customers:customer_create", 403),
        ("dispatcher", "customers:customer_create", 200),
        ("engineer", "accounts:roster", 200),
        ("customer_user_a", "staff-list", 403),
        ("customer_user_a", "device-list", 200),
        # issue 21 §6: a policy's own promises are shared by every branch: administrators create and edit them
        ("manager", "service:config_policy_create", 403),
        ("dispatcher", "service:config_policy_create", 403),
        ("admin_user", "service:config_policy_create", 200),
    ],
)
def test_role_rules_stated_explicitly(role, url_name, expected, world, client, request):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse(url_name)).status_code == expected


def test_admin_site_is_for_administrators_only(world, client, dispatcher, admin_user):
    client.force_login(dispatcher)
    assert client.get("/admin/").status_code == 302
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 200
