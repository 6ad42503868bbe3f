"""ORG-1: 售后服务人员 — the seed's table of the people who serve a project (岗位 / 姓名 / 专业 / 联系电话): the staff of the
branch office that serves it (customers.Project.branch; projects name no engineers of their own), by position in the
seed's order (工程师, 后勤保障, …), with the branch's address and the 7×24 service hotline. The tender hands this table
to the customer, so a customer's contact may print it for their own project."""

from django.conf import settings

from aftersales.accounts.models import Position, Specialty, User
from aftersales.core.scoping import get_visible_or_404
from aftersales.customers.models import Project

from .common import issuer, label

TEMPLATE = "printing/staff_roster.html"
PERMISSION = "customers.view_project"
ORDER = {value: index for index, value in enumerate(Position.values)}


def load(user, pk) -> Project:
    """Two queries: the project with its customer and branch, the branch's active staff who hold a position."""
    project = get_visible_or_404(Project.objects.select_related("customer", "branch"), user, pk=pk)
    staff = (User.objects.filter(branch_id=project.branch_id, customer__isnull=True, is_active=True)
             .exclude(position="").only("username", "full_name", "first_name", "last_name", "position", "specialty",
                                        "phone", "branch_id", "customer_id"))
    project.roster = sorted(staff, key=lambda u: (ORDER.get(u.position, len(ORDER)), str(u), u.pk))
    return project


def filename(project) -> str:
    return f"售后服务人员-{project.contract_number}.pdf"


def facts(project, user) -> dict:
    branch = project.branch
    return {
        "form": "staff_roster",
        "issuer": issuer(branch),
        "number": project.contract_number,
        "customer": project.customer.name,
        "project": project.name,
        "contract_number": project.contract_number,
        "site_address": project.site_address,
        "branch": branch.name,
        "branch_address": branch.address,
        "branch_phone": branch.phone,
        "hotline": settings.SERVICE_HOTLINE,
        "staff": [{"position": label(Position, member.position), "name": str(member),
                   "specialty": label(Specialty, member.specialty), "phone": member.phone}
                  for member in project.roster],
    }


def context(project, user) -> dict:
    return {}
