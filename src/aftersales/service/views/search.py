"""Issue 21 §8: the top bar's search box. A number names one request, and a text that finds exactly one request goes
straight to it; anything else opens the request list with the same search (service/search.py)."""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View

from aftersales.core.scoping import visible
from aftersales.core.views import ScopedMixin

from .. import search
from ..models import ServiceRequest


class SearchForm(forms.Form):
    # CharField refuses NUL characters (ProhibitNullCharactersValidator) and strips white space.
    q = forms.CharField(label=_("Search"), required=False, max_length=search.MAX_LENGTH,
                        error_messages={"max_length": _("Search for at most %(limit_value)d characters.")})


class RequestSearch(ScopedMixin, View):
    model = ServiceRequest
    permission_required = "service.view_servicerequest"

    def get(self, request):
        list_url = reverse("service:request_list")
        form = SearchForm(request.GET)
        if not form.is_valid():
            messages.error(request, form.errors["q"][0])
            return redirect(list_url)
        text = search.normalize(form.cleaned_data["q"])
        if not text:
            return redirect(list_url)
        hit = search.first_hit(visible(ServiceRequest.objects.all(), request.user), text,
                               one_customer=bool(request.user.customer_id))
        if hit is not None:
            return redirect("service:request_detail", pk=hit)
        return redirect(f"{list_url}?{urlencode({'q': text})}")
