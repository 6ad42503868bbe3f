from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render

from aftersales.accounts.models import Position
from aftersales.core import clock

from . import dashboard, homes

# Issue 21 §9: after logging in each role lands where it works; managers and administrators on the overview.
LANDING = {Position.ENGINEER: "service:my_work", Position.DISPATCHER: "service:desk",
           Position.LOGISTICS: "parts:stock"}  # issue 22 §5: logistics land on the stock


def landing_of(user) -> str:
    if user.customer_id:
        return "home"  # issue 24 §1: their open requests, what awaits their confirmation, their month
    if user.is_superuser:
        return "home"
    return LANDING.get(user.position, "home")


MANAGERS = {Position.DEPARTMENT_MANAGER, Position.GENERAL_MANAGER}  # the month page; a department's by visible()


def home_of(user) -> str:
    """Issue 24 §1: which home a user gets at /: customer, manager (the month page), desk, or the overview."""
    if user.customer_id:
        return "customer"
    if user.position in MANAGERS:
        return "manager"
    if user.position == Position.DISPATCHER and user.has_perm("service.handle_request"):
        return "desk"
    return "overview"


def home(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    user, kind = request.user, home_of(request.user)
    if kind == "overview":
        return render(request, "reports/home.html", dashboard.summary(user))
    context = {"home": kind}
    if kind == "desk":
        context["desk"] = homes.desk(user, clock.now())
    else:
        period = homes.parse_month(request.GET.get("month"), clock.today())
        context.update(homes.manager(user, period, clock.today()) if kind == "manager" else
                       {"month": homes.month_of(period, clock.today()), "mine": homes.customer(user, period)})
    return render(request, f"reports/home_{kind}.html", context)


@login_required
def landing(request):
    """Where the login sends someone who did not ask for a page (settings.LOGIN_REDIRECT_URL)."""
    return redirect(landing_of(request.user))
