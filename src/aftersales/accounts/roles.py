"""ORG-1: roles are permission groups. The table below is the single statement of who may do what;
`sync_roles()` writes it into the database after every migrate."""

from django.utils.translation import gettext_lazy as _

ENGINEER = "engineer"
LOGISTICS = "logistics"
DISPATCHER = "dispatcher"
DEPARTMENT_MANAGER = "department_manager"
GENERAL_MANAGER = "general_manager"
TECHNICAL_ADVISOR = "technical_advisor"
CUSTOMER_USER = "customer_user"
ADMINISTRATOR = "administrator"

ROLE_LABELS = {
    ENGINEER: _("Engineer"),
    LOGISTICS: _("Logistics"),
    DISPATCHER: _("Dispatcher"),
    DEPARTMENT_MANAGER: _("Department manager"),
    GENERAL_MANAGER: _("General manager"),
    TECHNICAL_ADVISOR: _("Technical advisor"),
    CUSTOMER_USER: _("Customer user"),
    ADMINISTRATOR: _("Administrator"),
}

_STAFF_READ = [
    "accounts.view_branch", "accounts.view_user", "accounts.view_oncallshift",
    "customers.view_customer", "customers.view_project", "customers.view_milestone",
    "customers.view_deadlineextension",
    "assets.view_devicecategory", "assets.view_manufacturer", "assets.view_device",
    "contracts.view_servicecontract", "contracts.view_coverageperiod",
]
_DESK_WRITE = [
    "customers.add_customer", "customers.change_customer",
    "customers.add_project", "customers.change_project",
    "customers.add_milestone", "customers.change_milestone", "customers.add_deadlineextension",
    "assets.add_device", "assets.change_device", "assets.add_manufacturer",
    "accounts.add_oncallshift", "accounts.change_oncallshift", "accounts.delete_oncallshift",
    "customers.manage_contacts",
]

# Issue 22 §1: maintenance contracts are written by the desk (dispatchers, department managers) and administrators.
_CONTRACTS_WRITE = ["contracts.add_servicecontract", "contracts.change_servicecontract",
                    "contracts.add_coverageperiod", "contracts.change_coverageperiod"]

_SERVICE_READ = ["service.view_servicerequest", "service.view_workorder", "service.view_incidentreport"]
_SERVICE_DESK = [*_SERVICE_READ, "service.add_servicerequest", "service.handle_request", "service.add_incidentreport",
                 "service.change_incidentreport"]
_SERVICE_FIELD = [*_SERVICE_READ, "service.add_servicerequest", "service.work_on_request", "service.add_workorder",
                  "service.add_incidentreport", "service.change_incidentreport"]
# Issue 21 §6: a department manager reads the calendars and policies and configures their own branch (its ladder, its
# projects' policies: the scoping door decides which); calendars, shared by every branch, stay with administrators.
_SERVICE_CONFIG_BRANCH = ["service.view_workcalendar", "service.view_slapolicy", "service.view_escalationrule",
                          "service.change_escalationrule", "service.view_projectpolicy", "service.change_projectpolicy"]

# Issue 22 §5 (REP-2), spare parts: staff read the catalogue and the stock of their branch (customers see none of
# it); logistics manage the catalogue and their branch's stock; an engineer uses parts from their own van (the verbs
# check the location: parts/services.py).
_PARTS_READ = ["parts.view_part", "parts.view_location", "parts.view_stocklevel", "parts.view_stockslot",
               "parts.view_movement"]
_PARTS_MANAGE = [*_PARTS_READ, "parts.add_part", "parts.change_part", "parts.add_location", "parts.change_location",
                 "parts.add_stocklevel", "parts.change_stocklevel", "parts.manage_stock", "parts.use_parts"]

# CUS-5: managers approve an exception to the billing rule on a charge sheet (billing/services.py add_exception)
_BILLING_EXCEPTIONS = ["billing.approve_exception"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    ENGINEER: [*_STAFF_READ, "assets.change_device", *_SERVICE_FIELD, *_PARTS_READ, "parts.use_parts"],
    LOGISTICS: [*_STAFF_READ, "assets.change_device", "assets.add_manufacturer", *_SERVICE_READ, *_PARTS_MANAGE],
    DISPATCHER: [*_STAFF_READ, *_DESK_WRITE, *_CONTRACTS_WRITE, *_SERVICE_DESK, "intake.add_devicealias", *_PARTS_READ],
    DEPARTMENT_MANAGER: [*_STAFF_READ, *_DESK_WRITE, *_CONTRACTS_WRITE, "assets.delete_device", *_SERVICE_DESK, *_SERVICE_FIELD,
                         "intake.add_devicealias", *_SERVICE_CONFIG_BRANCH, *_PARTS_READ, *_BILLING_EXCEPTIONS],
    GENERAL_MANAGER: [*_STAFF_READ, *_DESK_WRITE, "assets.delete_device", "accounts.see_all_branches", *_SERVICE_DESK,
                      *_PARTS_READ, *_BILLING_EXCEPTIONS],
    TECHNICAL_ADVISOR: [*_STAFF_READ, "accounts.see_all_branches", *_SERVICE_READ],
    CUSTOMER_USER: ["customers.view_customer", "customers.view_project", "customers.view_milestone",
                    "customers.view_deadlineextension", "assets.view_device", *_SERVICE_READ,
                    "contracts.view_servicecontract", "contracts.view_coverageperiod",
                    "service.add_servicerequest", "service.confirm_work"],
    ADMINISTRATOR: ["*"],
}

# Issue 22 §2-§4 (REP-1), repair cases, vendor RMAs and loaned units: engineers, the desk and managers work cases and
# lend spare units; logistics ship units to the manufacturer and back (RMA) and hand out spare units; a department
# manager does all of it in their branch; customers read their own (the scoping door decides which).
_REPAIRS_READ = ["repairs.view_repaircase", "repairs.view_loan", "repairs.view_vendorrma",
                 "repairs.view_devicereplacement"]
_REPAIRS = {
    ENGINEER: [*_REPAIRS_READ, "repairs.work_repair", "repairs.lend_unit"],
    LOGISTICS: [*_REPAIRS_READ, "repairs.ship_rma", "repairs.lend_unit"],
    DISPATCHER: [*_REPAIRS_READ, "repairs.work_repair", "repairs.lend_unit"],
    DEPARTMENT_MANAGER: [*_REPAIRS_READ, "repairs.work_repair", "repairs.ship_rma", "repairs.lend_unit"],
    GENERAL_MANAGER: [*_REPAIRS_READ, "repairs.work_repair", "repairs.lend_unit"],
    TECHNICAL_ADVISOR: _REPAIRS_READ,
    CUSTOMER_USER: _REPAIRS_READ,
}
for _role, _codes in _REPAIRS.items():
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], *_codes]

# Issue 23 (INS-1, INS-3), inspections: engineers do the rounds assigned to them (and see only those); the desk and
# managers plan them, oversee every round of their branch (override an approval with a reason, record why a round was
# missed, reassign); managers revise the checklists; customers read their own projects' rounds.
_INSPECTIONS_READ = ["inspections.view_inspectionplan", "inspections.view_inspectionround",
                     "inspections.view_checklisttemplate"]
_INSPECTIONS_DESK = [*_INSPECTIONS_READ, "inspections.manage_plans", "inspections.oversee_rounds"]
_INSPECTIONS = {
    ENGINEER: [*_INSPECTIONS_READ, "inspections.do_rounds"],
    DISPATCHER: _INSPECTIONS_DESK,
    DEPARTMENT_MANAGER: [*_INSPECTIONS_DESK, "inspections.manage_checklists"],
    GENERAL_MANAGER: [*_INSPECTIONS_DESK, "inspections.manage_checklists"],
    TECHNICAL_ADVISOR: _INSPECTIONS_READ,
    CUSTOMER_USER: ["inspections.view_inspectionround"],
}
for _role, _codes in _INSPECTIONS.items():
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], *_codes]
# Issue 23 §5, §6 (INS-4, INS-5): those who do or oversee rounds turn findings into requests or repair cases and issue
# the round's report (the customer signs it on their screen); customers confirm their own reports in the portal.
for _role in (ENGINEER, DISPATCHER, DEPARTMENT_MANAGER, GENERAL_MANAGER):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "inspections.handle_findings"]

# Issue 23 §9 (TRN-1, TRN-2), training and handover: engineers, the desk and managers plan and record sessions (the
# customer may sign on their screen) and the handover checklist; customers read their own and sign the feedback.
_TRAINING_READ = ["training.view_trainingsession", "training.view_handoveritem"]
_TRAINING_STAFF = [*_TRAINING_READ, "training.manage_training", "training.record_handover"]
_TRAINING = {
    ENGINEER: _TRAINING_STAFF,
    LOGISTICS: _TRAINING_READ,
    DISPATCHER: _TRAINING_STAFF,
    DEPARTMENT_MANAGER: _TRAINING_STAFF,
    GENERAL_MANAGER: _TRAINING_STAFF,
    TECHNICAL_ADVISOR: _TRAINING_READ,
    CUSTOMER_USER: [*_TRAINING_READ, "training.sign_training_feedback"],
}
for _role, _codes in _TRAINING.items():
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], *_codes]

# Issue 23 §7-§8 (VIS-1, VIS-2), return visits and the system operation survey: the desk and managers plan visits and
# schedules and send surveys; engineers record the visits they make, fill surveys in with the customer and work the
# follow-ups; customers read their own visits, follow-ups and surveys, and answer their own survey.
_VISITS_READ = ["visits.view_returnvisit", "visits.view_visitschedule", "visits.view_followup", "visits.view_survey"]
_VISITS_FIELD = [*_VISITS_READ, "visits.record_visit", "visits.work_follow_up", "visits.answer_survey"]
_VISITS_DESK = [*_VISITS_FIELD, "visits.plan_visit", "visits.send_survey"]
_VISITS = {
    ENGINEER: _VISITS_FIELD,
    LOGISTICS: _VISITS_READ,
    DISPATCHER: _VISITS_DESK,
    DEPARTMENT_MANAGER: _VISITS_DESK,
    GENERAL_MANAGER: _VISITS_DESK,
    TECHNICAL_ADVISOR: _VISITS_READ,
    CUSTOMER_USER: ["visits.view_returnvisit", "visits.view_followup", "visits.view_survey", "visits.answer_survey"],
}
for _role, _codes in _VISITS.items():
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], *_codes]

# Issue 24 §4, the monthly proof of service: everyone reads the reports in their scope (a customer's contacts their
# own); the desk and managers regenerate a month (a new version, the old kept).
for _role in (ENGINEER, LOGISTICS, DISPATCHER, DEPARTMENT_MANAGER, GENERAL_MANAGER, TECHNICAL_ADVISOR, CUSTOMER_USER):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "proof.view_monthlyreport"]
for _role in (DISPATCHER, DEPARTMENT_MANAGER, GENERAL_MANAGER):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "proof.regenerate_monthlyreport"]
# Issue 24 §2 (RPT-1): the reports and their exports: managers, and customers' users (their own data only).
for _role in (DEPARTMENT_MANAGER, GENERAL_MANAGER, CUSTOMER_USER):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "reports.view_reports"]

# Issue 25 §2 (LOG-1), daily service logs: staff write their own day; managers and the general manager see the
# team's days; the customer's contacts read the entries marked visible to them.
for _role in (ENGINEER, LOGISTICS, DISPATCHER, DEPARTMENT_MANAGER, GENERAL_MANAGER, TECHNICAL_ADVISOR):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "journal.view_dailylog", "journal.add_dailylog",
                               "journal.view_logentry"]
for _role in (DEPARTMENT_MANAGER, GENERAL_MANAGER):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "journal.view_team_logs"]
ROLE_PERMISSIONS[CUSTOMER_USER] = [*ROLE_PERMISSIONS[CUSTOMER_USER], "journal.view_logentry"]
# Issue 25 §3 (LOG-2), versioned project documents: staff read and upload documents and new versions; the desk,
# engineers and managers choose what is shared with the customer; customers read the shared ones of their projects.
for _role in (ENGINEER, LOGISTICS, DISPATCHER, DEPARTMENT_MANAGER, GENERAL_MANAGER, TECHNICAL_ADVISOR, CUSTOMER_USER):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "documents.view_document", "documents.view_documentversion"]
for _role in (ENGINEER, DISPATCHER, DEPARTMENT_MANAGER, GENERAL_MANAGER, TECHNICAL_ADVISOR):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "documents.upload_document"]
for _role in (ENGINEER, DISPATCHER, DEPARTMENT_MANAGER, GENERAL_MANAGER):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "documents.share_document"]
# Issue 25 §4 (LOG-3), change notices: everyone reads those in their scope (a customer's contacts their own); customers
# announce and withdraw their changes, the desk and managers may enter one for them; engineers, advisors, the desk and
# managers record the compatibility tests and answer.
for _role in (ENGINEER, LOGISTICS, DISPATCHER, DEPARTMENT_MANAGER, GENERAL_MANAGER, TECHNICAL_ADVISOR, CUSTOMER_USER):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "changes.view_changenotice"]
for _role in (DISPATCHER, DEPARTMENT_MANAGER, GENERAL_MANAGER, CUSTOMER_USER):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "changes.submit_change_notice"]
for _role in (ENGINEER, DISPATCHER, DEPARTMENT_MANAGER, GENERAL_MANAGER, TECHNICAL_ADVISOR):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "changes.handle_change_notice"]
# Issue 25 §4-§5 (LOG-3, LOG-4), hidden-danger reports and proposals: everyone reads them in their scope (a customer's
# contacts their own, never a draft); field staff, the desk, managers and advisors write and send them and record the
# follow-up; the customer's contacts confirm reports and choose among a proposal's options in writing.
for _role in (ENGINEER, LOGISTICS, DISPATCHER, DEPARTMENT_MANAGER, GENERAL_MANAGER, TECHNICAL_ADVISOR, CUSTOMER_USER):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "proposals.view_hazardreport", "proposals.view_proposal"]
for _role in (ENGINEER, DISPATCHER, DEPARTMENT_MANAGER, GENERAL_MANAGER, TECHNICAL_ADVISOR):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "proposals.manage_proposals"]
ROLE_PERMISSIONS[CUSTOMER_USER] = [*ROLE_PERMISSIONS[CUSTOMER_USER], "proposals.answer_proposals"]
# Issue 25 §6 (SRQ-9), the knowledge base: every staff member reads it and writes or proposes drafts (logistics read);
# technical advisors and managers review and publish (never their own); customers read the published customer-visible.
for _role in (ENGINEER, LOGISTICS, DISPATCHER, DEPARTMENT_MANAGER, GENERAL_MANAGER, TECHNICAL_ADVISOR, CUSTOMER_USER):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "knowledge.view_article"]
for _role in (ENGINEER, DISPATCHER, DEPARTMENT_MANAGER, GENERAL_MANAGER, TECHNICAL_ADVISOR):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "knowledge.add_article", "knowledge.change_article"]
for _role in (DEPARTMENT_MANAGER, GENERAL_MANAGER, TECHNICAL_ADVISOR):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "knowledge.review_article"]
# Issue 25 §7, canned replies: every staff member uses them on a request's forms; the desk and managers write their
# branch's, the general manager (and the administrator) the all-branch ones.
for _role in (ENGINEER, LOGISTICS, DISPATCHER, DEPARTMENT_MANAGER, GENERAL_MANAGER, TECHNICAL_ADVISOR):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "replies.view_cannedreply"]
for _role in (DISPATCHER, DEPARTMENT_MANAGER, GENERAL_MANAGER):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "replies.add_cannedreply", "replies.change_cannedreply"]

ADMIN_APPS = ("accounts", "customers", "assets", "contracts", "service", "notify", "intake", "parts", "repairs", "billing",
              "authtoken", "auditlog", "visits", "inspections", "training", "proof", "reports",
              "journal", "documents", "changes", "proposals", "knowledge", "replies")


def sync_roles(app_config=None, using="default", **kwargs) -> None:
    """post_migrate handler: runs once, after the last app's permissions exist."""
    from django.apps import apps
    from django.contrib.auth.models import Group, Permission

    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if app_config is not None and app_config is not with_models[-1]:  # post_migrate is sent for these only
        return

    everything = Permission.objects.filter(content_type__app_label__in=ADMIN_APPS)
    for role, codes in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        if codes == ["*"]:
            group.permissions.set(everything)
            continue
        perms = []
        for code in dict.fromkeys(codes):
            app_label, codename = code.split(".")
            perms.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(perms)
