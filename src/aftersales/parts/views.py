"""REP-2 pages: logistics' stock, movements, receipts, transfers, adjustments, defective units, levels, low stock and
catalogue; the engineer's van on the phone. Thin: each form goes to one verb, which decides."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import CreateView, DetailView, FormView, UpdateView

from aftersales.billing.services import reverse_movement
from aftersales.core.errors import DomainError
from aftersales.core.scoping import get_visible_or_404
from aftersales.core.views import ScopedListView, ScopedMixin

from . import forms, selectors, services
from .filters import MovementFilter, PartFilter, StockFilter
from .models import Movement, MovementKind, Part, StockSlot


def form_error(form, error: DomainError) -> None:
    """A verb's refusal, under the field it names (or above the form)."""
    form.add_error(error.field if error.field in form.fields else None, str(error.message))


# ------------------------------------------------------------------------------------------ stock

class StockList(ScopedListView):
    """Stock per location: on hand, reserved, available, defective, minimum and target, low flag. Every figure is
    a sum over the ledger computed in the page's one query."""

    model = StockSlot
    permission_required = "parts.view_stockslot"
    filterset_class = StockFilter
    template_name = "parts/stock_list.html"
    paginate_by = 50

    def get_queryset(self):
        return selectors.stock(self.request.user)


class LowStockList(StockList):
    template_name = "parts/low_stock.html"

    def get_queryset(self):
        return selectors.low_stock(self.request.user)


# ------------------------------------------------------------------------------------------ movements

class MovementList(ScopedMixin, View):
    """The ledger, newest first, in keyset pages (`?before=<id>`): no COUNT, whatever its length."""

    model = Movement
    permission_required = "parts.view_movement"
    page_size = selectors.MOVEMENT_PAGE

    def get(self, request):
        movement_filter = MovementFilter(request.GET, queryset=selectors.movements(request.user), request=request)
        rows = movement_filter.qs
        before = request.GET.get("before", "")
        if before.isdigit() and len(before) < 19:
            rows = rows.filter(pk__lt=int(before))
        page = list(rows[:self.page_size + 1])
        more = len(page) > self.page_size
        page = page[:self.page_size]
        query = request.GET.copy()
        query.pop("before", None)
        return render(request, "parts/movement_list.html", {
            "filter": movement_filter, "movements": page,
            "next_before": page[-1].pk if more else None, "querystring": query.urlencode(),
            "first_page": not before,
        })


class MovementDetail(ScopedMixin, DetailView):
    model = Movement
    permission_required = "parts.view_movement"
    template_name = "parts/movement_detail.html"

    def get_object(self, queryset=None):
        return get_visible_or_404(Movement.objects.select_related("part", "location", "by", "request", "work_order",
                                                                  "reverses", "pair", "repair_case"),
                                  self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        movement = self.object
        context = super().get_context_data(**kwargs)
        context["reversed_by"] = Movement.objects.filter(reverses=movement).first()
        context["paired_with"] = Movement.objects.filter(pair=movement).select_related("location").first()
        context["can_reverse"] = (movement.kind not in services.NOT_REVERSIBLE and context["reversed_by"] is None
                                  and services.may_manage(self.request.user, movement.location))
        context["reverse_form"] = kwargs.get("reverse_form") or forms.ReverseForm()
        context["left"] = services.outstanding(movement) if movement.kind == MovementKind.RESERVED else 0
        context["can_release"] = context["left"] > 0 and services.may_manage(self.request.user, movement.location)
        return context

    def release(self, request):
        try:
            services.release(reservation=self.object, by=request.user, reason=request.POST.get("release_reason", ""))
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Released: the units are available again."))
        return redirect(self.object.get_absolute_url())

    def post(self, request, pk):
        """Correct this row by a reversing one; or, for a reservation, release what is left of it."""
        self.object = self.get_object()
        if "release" in request.POST:
            return self.release(request)
        form = forms.ReverseForm(request.POST)
        if form.is_valid():
            try:
                rows = reverse_movement(movement=self.object, by=request.user, reason=form.cleaned_data["reason"])
            except DomainError as error:
                form_error(form, error)
            else:
                messages.success(request, _("Reversed by movement #{n}.").format(n=rows[-1].pk))
                return redirect(self.object.get_absolute_url())
        return render(request, self.template_name, self.get_context_data(object=self.object, reverse_form=form),
                      status=409 if form.errors else 200)


# ------------------------------------------------------------------------------------------ the verbs' forms

class VerbFormView(LoginRequiredMixin, PermissionRequiredMixin, FormView):
    """A form whose valid data goes to one verb; a refusal shows under its field."""

    permission_required = services.MANAGE
    template_name = "parts/verb_form.html"
    title = ""
    intro = ""
    submit = _("Save")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        return {key: self.request.GET[key] for key in ("part", "location", "source", "destination")
                if self.request.GET.get(key, "").isdigit()}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": self.title, "intro": self.intro, "submit": self.submit}

    def form_valid(self, form):
        try:
            message = self.run(form.verb_arguments())
        except DomainError as error:
            form_error(form, error)
            response = self.form_invalid(form)
            response.status_code = 409 if error.status == 409 else 200
            return response
        messages.success(self.request, message)
        return redirect(self.success_url_for(form))

    def success_url_for(self, form) -> str:
        return reverse("parts:movements")

    def run(self, data) -> str:
        raise NotImplementedError


class ReceiveView(VerbFormView):
    form_class = forms.ReceiveForm
    title = _("Receive parts")
    intro = _("Units arriving from a supplier (or back from the manufacturer) at a warehouse or a van.")
    submit = _("Receive")

    def run(self, data):
        movement = services.receive(by=self.request.user, **data)
        return _("Received {n} × {part} at {location}.").format(n=movement.quantity, part=movement.part,
                                                                location=movement.location)


class TransferView(VerbFormView):
    form_class = forms.TransferForm
    title = _("Transfer parts")
    intro = _("From a warehouse to a van, a van back to the warehouse, or between warehouses. Reserved units stay.")
    submit = _("Transfer")

    def run(self, data):
        out, into = services.transfer(by=self.request.user, **data)
        return _("Moved {n} × {part} from {source} to {destination}.").format(
            n=out.quantity, part=out.part, source=out.location, destination=into.location)


class ReserveView(VerbFormView):
    form_class = forms.ReserveForm
    title = _("Reserve parts")
    intro = _("Units set aside for a planned job stay on hand but are no longer available to others. The job uses "
              "them first; what is left is released when its request ends.")
    submit = _("Reserve")

    def get_initial(self):
        initial = super().get_initial()
        if self.request.GET.get("request", "").isdigit():
            from aftersales.service.models import ServiceRequest

            found = get_visible_or_404(ServiceRequest.objects.all(), self.request.user, pk=self.request.GET["request"])
            initial["request"] = found.number
        return initial

    def run(self, data):
        self.reserved_for = data["request"]
        movement = services.reserve(by=self.request.user, **data)
        return _("Reserved {n} × {part} at {location} for {number}.").format(
            n=movement.quantity, part=movement.part, location=movement.location, number=movement.request.number)

    def success_url_for(self, form):
        return self.reserved_for.get_absolute_url() + "#reservations"


class AdjustView(VerbFormView):
    form_class = forms.AdjustForm
    title = _("Adjust stock")
    intro = _("A stock take found more or fewer units than the ledger says. The reason is kept with the row.")
    submit = _("Adjust")

    def run(self, data):
        movement = services.adjust(by=self.request.user, **data)
        return _("Adjusted {part} at {location} by {change}.").format(
            part=movement.part, location=movement.location, change=movement.on_hand_change)


class DefectiveView(VerbFormView):
    form_class = forms.DefectiveForm
    title = _("Defective parts")
    intro = _("Faulty units wait at a location until they are shipped to the manufacturer (RMA).")
    submit = _("Record")

    def run(self, data):
        action = data.pop("action")
        if action == "rma":
            data.pop("from_stock")
            movement = services.send_to_rma(by=self.request.user, **data)
        else:
            movement = services.return_defective(by=self.request.user, **data)
        return _("{kind}: {n} × {part} at {location}.").format(
            kind=movement.get_kind_display(), n=movement.quantity, part=movement.part, location=movement.location)


class LevelView(VerbFormView):
    form_class = forms.LevelForm
    title = _("Minimum and target")
    intro = _("Below the minimum, logistics get one alert asking to order up to the target; the next alert comes "
              "only after the stock was back at the minimum.")

    def run(self, data):
        level = services.set_level(by=self.request.user, **data)
        return _("Saved: {level}.").format(level=level)

    def success_url_for(self, form):
        return f"{reverse('parts:stock')}?location={form.cleaned_data['location'].pk}"


# ------------------------------------------------------------------------------------------ catalogue

class PartList(ScopedListView):
    model = Part
    permission_required = "parts.view_part"
    filterset_class = PartFilter
    template_name = "parts/part_list.html"
    sort_fields = {"name": "name", "part_number": "part_number", "cost": "purchase_cost"}
    default_sort = "name"

    def get_queryset(self):
        queryset = Part.objects.select_related("manufacturer")
        return self.sorted_by_request(queryset) or queryset.order_by("name", "part_number", "pk")


class PartDetail(LoginRequiredMixin, PermissionRequiredMixin, DetailView):
    """A part and where it is: its stock at every location the user sees."""

    model = Part
    permission_required = "parts.view_part"
    template_name = "parts/part_detail.html"

    def get_object(self, queryset=None):
        return get_object_or_404(Part.objects.select_related("manufacturer"), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rows"] = list(selectors.stock(self.request.user).filter(part=self.object)[:200])
        from aftersales.core import history

        context["audit_entries"] = history.audit_entries(self.object)
        return context


class PartCreate(LoginRequiredMixin, PermissionRequiredMixin, CreateView):
    model = Part
    form_class = forms.PartForm
    permission_required = "parts.add_part"
    template_name = "core/form.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "form_title": _("New spare part")}


class PartUpdate(LoginRequiredMixin, PermissionRequiredMixin, UpdateView):
    model = Part
    form_class = forms.PartForm
    permission_required = "parts.change_part"
    template_name = "core/form.html"


# ------------------------------------------------------------------------------------------ the engineer's van

class MyVan(ScopedMixin, View):
    """我的随车备件, on the phone: what is in the van, and a part used from it in one action (one movement)."""

    model = StockSlot
    permission_required = services.USE
    template_name = "parts/my_van.html"

    def get(self, request):
        van = selectors.van_of(request.user)
        initial = {"part": request.GET["part"]} if request.GET.get("part", "").isdigit() else {}
        return self.page(request, van, self.form(request, van, initial=initial) if van else None)

    def post(self, request):
        van = selectors.van_of(request.user)
        if van is None:
            messages.error(request, _("You have no van stock."))
            return redirect("parts:my_van")
        form = self.form(request, van, data=request.POST)
        status = 200
        if form.is_valid():
            data = form.cleaned_data
            try:
                movement = services.use_part(
                    part=data["part"], location=van, quantity=data["quantity"], by=request.user,
                    request=data["request"], serials=forms.split_serials(data["serials"]),
                    reference=data["reference"])
            except DomainError as error:
                form_error(form, error)
                status = error.status if error.status in (403, 409) else 200
            else:
                messages.success(request, _("Used {n} × {part} ({cost} yuan each).").format(
                    n=movement.quantity, part=movement.part, cost=movement.unit_cost))
                return redirect("parts:my_van")
        return self.page(request, van, form, status=status)

    def form(self, request, van, **kwargs):
        parts = Part.objects.filter(active=True, pk__in=StockSlot.objects.filter(location=van).values("part_id"))
        return forms.UseForm(parts=parts.order_by("name", "pk"),
                             requests=selectors.open_requests_of(request.user), **kwargs)

    def page(self, request, van, form, status=200):
        context = {"van": van, "form": form, "rows": [], "recent": []}
        if van is not None:
            context["rows"] = list(selectors.van_contents(van))
            context["recent"] = list(Movement.objects.filter(location=van).select_related("part", "request")
                                     .order_by("-pk")[:10])
        return render(request, self.template_name, context, status=status)
