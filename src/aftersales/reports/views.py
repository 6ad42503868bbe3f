from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render

from aftersales.accounts.models import Position

from . import dashboard

# Issue 21 §9: after logging in each role lands where it works; managers and administrators on the overview.
LANDING = {Position.ENGINEER: "service:my_work", Position.DISPATCHER: "service:desk",
           Position.LOGISTICS: "parts:stock"}  # issue 22 §5: logistics land on the stock


def landing_of(user) -> str:
    if user.customer_id:
        return "service:request_list"  # 我的报修: what awaits their confirmation, and "report a problem"
    if user.is_superuser:
        return "home"
    return LANDING.get(user.position, "home")


def home(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return render(request, "reports/home.html", dashboard.summary(request.user))


@login_required
def landing(request):
    """Where the login sends someone who did not ask for a page (settings.LOGIN_REDIRECT_URL)."""
    return redirect(landing_of(request.user))
