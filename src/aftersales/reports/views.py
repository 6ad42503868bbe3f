from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render

from . import dashboard


def home(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return render(request, "reports/home.html", dashboard.summary(request.user))
