"""REP-2 over the API: the catalogue, the locations, the stock (computed per request: sums over the ledger), the
movements (read), and the verbs as actions of /api/stock-movements/ — receive, transfer, reserve, release, use,
return-defective, send-to-rma, adjust, and reverse on one movement. Everything is scoped like the pages; a refusal is
the one error body: 409 `out_of_stock`, 403 `wrong_location`, 409 `inactive_part`, 400 `invalid` with `fields`."""

from django.db import transaction
from django.db.models import Q
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, pagination, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.assets.models import Manufacturer
from aftersales.billing.services import reissue_for_work_order, reverse_movement
from aftersales.core.api_base import AuditActorMixin, ErrorOut, ScopedPrimaryKeyField, requires
from aftersales.core.api_settings import VerbPermissions
from aftersales.core.filters import ScopedChoiceFilter
from aftersales.core.plausible import validate_plausible
from aftersales.service.models import ServiceRequest, WorkOrder

from . import selectors, services
from .models import Location, Movement, MovementKind, Part, StockSlot

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
MANAGE, USE = services.MANAGE, services.USE


# ------------------------------------------------------------------------------------------ catalogue and locations

class PartSerializer(serializers.ModelSerializer):
    manufacturer = serializers.PrimaryKeyRelatedField(queryset=Manufacturer.objects.all())
    manufacturer_name = serializers.CharField(source="manufacturer.name", read_only=True)
    purchase_cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0,
                                             help_text="CNY per unit: what a use of the part costs.")

    class Meta:
        model = Part
        fields = ["id", "manufacturer", "manufacturer_name", "part_number", "name", "unit", "purchase_cost",
                  "serial_tracked", "active", "created_at", "updated_at"]


class PartFilter(filters.FilterSet):
    q = filters.CharFilter(method="search", max_length=100, help_text="Words of the name or the part number.")

    class Meta:
        model = Part
        fields = ["manufacturer", "active", "serial_tracked"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(part_number__icontains=value))


class PartViewSet(AuditActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                  mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """The catalogue: every staff member reads it, logistics add and edit parts (a part is never deleted: the ledger
    names it; make it inactive instead)."""

    queryset = Part.objects.select_related("manufacturer").order_by("name", "part_number", "pk")
    serializer_class = PartSerializer
    filterset_class = PartFilter
    search_fields = []
    ordering_fields = ["name", "part_number", "purchase_cost"]
    http_method_names = ["get", "post", "patch", "put", "head", "options"]


class LocationSerializer(serializers.ModelSerializer):
    engineer_name = serializers.CharField(source="engineer.display_name", read_only=True, default=None)

    class Meta:
        model = Location
        fields = ["id", "kind", "name", "branch", "engineer", "engineer_name", "is_main", "active"]


class LocationViewSet(AuditActorMixin, viewsets.ReadOnlyModelViewSet):
    """Warehouses and vans of the branches the caller sees."""

    queryset = Location.objects.all()  # always narrowed by get_queryset()
    serializer_class = LocationSerializer
    filterset_fields = ["kind", "branch", "engineer", "active"]
    search_fields = []
    ordering_fields = []

    def get_queryset(self):
        return selectors.locations(self.request.user)


# ------------------------------------------------------------------------------------------ stock (computed)

class StockOut(serializers.Serializer):
    id = serializers.IntegerField()
    part = serializers.IntegerField(source="part_id")
    part_name = serializers.CharField(source="part.__str__")
    location = serializers.IntegerField(source="location_id")
    location_name = serializers.CharField(source="location.name")
    on_hand = serializers.IntegerField(help_text="Good units there: the sum of the ledger's rows.")
    reserved = serializers.IntegerField(help_text="Of those, promised to planned work orders.")
    available = serializers.IntegerField(help_text="On hand − reserved.")
    defective = serializers.IntegerField(help_text="Faulty units waiting to go to the manufacturer.")
    minimum = serializers.IntegerField(allow_null=True)
    target = serializers.IntegerField(allow_null=True)
    is_low = serializers.BooleanField(help_text="Available below the minimum.")
    to_order = serializers.IntegerField(help_text="Target − available when low, else 0.")


class StockFilter(filters.FilterSet):
    location = ScopedChoiceFilter(Location)
    part = filters.ModelChoiceFilter(queryset=Part.objects.all())
    low = filters.BooleanFilter(method="only_low", help_text="true: only what is below its minimum.")

    class Meta:
        model = StockSlot
        fields = ["location", "part", "low"]

    def only_low(self, queryset, name, value):
        return queryset.filter(is_low=value)


class LevelIn(serializers.Serializer):
    part = serializers.PrimaryKeyRelatedField(queryset=Part.objects.all())
    location = ScopedPrimaryKeyField(queryset=Location.objects.all())
    minimum = serializers.IntegerField(min_value=0, max_value=services.MAX_QUANTITY)
    target = serializers.IntegerField(min_value=0, max_value=services.MAX_QUANTITY)


class StockViewSet(AuditActorMixin, viewsets.ReadOnlyModelViewSet):
    """Stock per (part, location): on hand, reserved, available and defective are computed in the query from the
    ledger; minimum and target are the settings; `is_low` and `to_order` follow from them."""

    queryset = StockSlot.objects.all()  # always narrowed by get_queryset()
    serializer_class = StockOut
    filterset_class = StockFilter
    permission_classes = [VerbPermissions]
    search_fields = []
    ordering_fields = []

    def get_queryset(self):
        return selectors.stock(self.request.user)

    @extend_schema(responses={200: StockOut(many=True), 400: ErrorOut})
    @action(detail=False, methods=["get"])
    def low(self, request):
        """The low-stock list: below the minimum, the most to order first."""
        queryset = self.filter_queryset(selectors.low_stock(request.user))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(StockOut(page, many=True).data)

    @extend_schema(request=LevelIn, responses={200: StockOut, **ERRORS})
    @action(detail=False, methods=["post"])
    @requires(MANAGE)
    def level(self, request):
        """Set the minimum and target of a part at a location (a minimum above what is available alerts at once)."""
        data = LevelIn(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        services.set_level(by=request.user, **data.validated_data)
        row = selectors.stock(request.user).get(part=data.validated_data["part"], location=data.validated_data["location"])
        return Response(StockOut(row).data)


# ------------------------------------------------------------------------------------------ movements and verbs

class MovementOut(serializers.ModelSerializer):
    by_name = serializers.CharField(source="by.display_name", read_only=True, allow_null=True,
                                    help_text="Null: released by the system when the request ended.")
    total_cost = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    serials = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Movement
        fields = ["id", "kind", "part", "location", "quantity", "on_hand_change", "reserved_change", "defective_change",
                  "unit_cost", "total_cost", "at", "by", "by_name", "work_order", "request", "repair_case", "reference",
                  "supplier",
                  "reason", "serials", "pair", "reverses", "reservation"]


class MovementFilter(filters.FilterSet):
    location = ScopedChoiceFilter(Location)
    part = filters.ModelChoiceFilter(queryset=Part.objects.all())
    kind = filters.MultipleChoiceFilter(choices=MovementKind.choices)
    after = filters.DateTimeFilter(field_name="at", lookup_expr="gte", validators=[validate_plausible])
    before = filters.DateTimeFilter(field_name="at", lookup_expr="lt", validators=[validate_plausible])

    class Meta:
        model = Movement
        fields = ["location", "part", "kind", "after", "before", "work_order", "request"]


class MovementPages(pagination.CursorPagination):
    """Keyset pages, newest first: no COUNT over the ledger, whatever its length."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100


class _Where(serializers.Serializer):
    part = serializers.PrimaryKeyRelatedField(queryset=Part.objects.all())
    location = ScopedPrimaryKeyField(queryset=Location.objects.all())
    quantity = serializers.IntegerField(min_value=1, max_value=services.MAX_QUANTITY)


class _ForJob(serializers.Serializer):
    work_order = ScopedPrimaryKeyField(queryset=WorkOrder.objects.all(), required=False, allow_null=True)
    request = ScopedPrimaryKeyField(queryset=ServiceRequest.objects.all(), required=False, allow_null=True)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


SERIALS = serializers.ListField(child=serializers.CharField(max_length=services.MAX_SERIAL_LENGTH), required=False,
                                default=list, max_length=services.MAX_QUANTITY,
                                help_text="One serial number per unit for a serial-tracked part; none otherwise.")


class ReceiveIn(_Where):
    unit_cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True,
                                         help_text="CNY per unit; the catalogue's purchase cost when left out.")
    supplier = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    serials = SERIALS


class TransferIn(serializers.Serializer):
    part = serializers.PrimaryKeyRelatedField(queryset=Part.objects.all())
    source = ScopedPrimaryKeyField(queryset=Location.objects.all())
    destination = ScopedPrimaryKeyField(queryset=Location.objects.all())
    quantity = serializers.IntegerField(min_value=1, max_value=services.MAX_QUANTITY)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    serials = SERIALS


class ReserveIn(_Where, _ForJob):
    pass


class ReleaseIn(serializers.Serializer):
    reservation = ScopedPrimaryKeyField(queryset=Movement.objects.filter(kind=MovementKind.RESERVED))
    quantity = serializers.IntegerField(min_value=1, max_value=services.MAX_QUANTITY, required=False, allow_null=True,
                                        help_text="What to give back; all that is left of the reservation when left "
                                                  "out.")
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class UseIn(_Where, _ForJob):
    reservation = ScopedPrimaryKeyField(queryset=Movement.objects.filter(kind=MovementKind.RESERVED), required=False,
                                        allow_null=True, help_text="A reservation of this part here, consumed first.")
    serials = SERIALS


class ReturnDefectiveIn(_Where, _ForJob):
    from_stock = serializers.BooleanField(default=False, help_text="true: one of the location's own good units "
                                                                   "found faulty; false: a unit removed from a device.")
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    serials = SERIALS


class SendToRmaIn(_Where):
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                      help_text="The manufacturer's RMA number.")
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    serials = SERIALS


class AdjustIn(serializers.Serializer):
    part = serializers.PrimaryKeyRelatedField(queryset=Part.objects.all())
    location = ScopedPrimaryKeyField(queryset=Location.objects.all())
    change = serializers.IntegerField(min_value=-services.MAX_QUANTITY, max_value=services.MAX_QUANTITY,
                                      help_text="More (> 0) or fewer (< 0) units than the ledger says.")
    reason = serializers.CharField(max_length=2000)


class ReverseIn(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class MovementViewSet(AuditActorMixin, viewsets.ReadOnlyModelViewSet):
    """The ledger, read-only: rows are added by the actions below (the verbs), never changed or deleted."""

    queryset = Movement.objects.all()  # always narrowed by get_queryset()
    serializer_class = MovementOut
    filterset_class = MovementFilter
    pagination_class = MovementPages
    permission_classes = [VerbPermissions]
    search_fields = []
    ordering_fields = []

    def get_queryset(self):
        return selectors.movements(self.request.user)

    def _input(self, serializer_class):
        data = serializer_class(data=self.request.data, context={"user": self.request.user})
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    def _out(self, movement, status=201):
        return Response(MovementOut(movement).data, status=status)

    @extend_schema(request=ReceiveIn, responses={201: MovementOut, **ERRORS})
    @action(detail=False, methods=["post"])
    @requires(MANAGE)
    def receive(self, request):
        """Units arrive from a supplier at a location."""
        return self._out(services.receive(by=request.user, **self._input(ReceiveIn)))

    @extend_schema(request=TransferIn, responses={201: MovementOut(many=True), **ERRORS})
    @action(detail=False, methods=["post"])
    @requires(MANAGE)
    def transfer(self, request):
        """Units go from one location to another: the two rows, the source's first."""
        rows = services.transfer(by=request.user, **self._input(TransferIn))
        return Response(MovementOut(rows, many=True).data, status=201)

    @extend_schema(request=ReserveIn, responses={201: MovementOut, **ERRORS})
    @action(detail=False, methods=["post"])
    @requires(MANAGE)
    def reserve(self, request):
        """Units promised to a planned work order: on hand, no longer available."""
        return self._out(services.reserve(by=request.user, **self._input(ReserveIn)))

    @extend_schema(request=ReleaseIn, responses={201: MovementOut, **ERRORS})
    @action(detail=False, methods=["post"])
    @requires(MANAGE)
    def release(self, request):
        """A reservation, or part of it, given back."""
        return self._out(services.release(by=request.user, **self._input(ReleaseIn)))

    @extend_schema(request=UseIn, responses={201: MovementOut, **ERRORS})
    @action(detail=False, methods=["post"])
    @requires(USE)
    def use(self, request):
        """Units used on a job, from the caller's van (logistics: any location of their branch). The row carries the
        unit purchase cost, which the billing rule charges after warranty."""
        with transaction.atomic():  # a part added to a work order changes its charge sheet (CUS-5), or is refused
            movement = services.use_part(by=request.user, **self._input(UseIn))
            if movement.work_order_id is not None:
                reissue_for_work_order(movement.work_order)
        return self._out(movement)

    @extend_schema(request=ReturnDefectiveIn, responses={201: MovementOut, **ERRORS})
    @action(detail=False, methods=["post"], url_path="return-defective")
    @requires(USE)
    def return_defective(self, request):
        """A faulty unit kept at a location until it goes to the manufacturer."""
        return self._out(services.return_defective(by=request.user, **self._input(ReturnDefectiveIn)))

    @extend_schema(request=SendToRmaIn, responses={201: MovementOut, **ERRORS})
    @action(detail=False, methods=["post"], url_path="send-to-rma")
    @requires(MANAGE)
    def send_to_rma(self, request):
        """Defective units shipped to the manufacturer."""
        return self._out(services.send_to_rma(by=request.user, **self._input(SendToRmaIn)))

    @extend_schema(request=AdjustIn, responses={201: MovementOut, **ERRORS})
    @action(detail=False, methods=["post"])
    @requires(MANAGE)
    def adjust(self, request):
        """A stock take's correction, with its reason."""
        return self._out(services.adjust(by=request.user, **self._input(AdjustIn)))

    @extend_schema(request=ReverseIn, responses={201: MovementOut(many=True), **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(MANAGE)
    def reverse(self, request, pk=None):
        """Correct a mistaken row by a reversing row (both ends of a transfer). Nothing is ever edited. A part used on
        a work order or a repair case leaves its charge sheet too (issued again), or is refused once that sheet is
        final (409)."""
        rows = reverse_movement(movement=self.get_object(), by=request.user, **self._input(ReverseIn))
        return Response(MovementOut(rows, many=True).data, status=201)


def register(router) -> None:
    router.register("parts", PartViewSet, basename="part")
    router.register("stock-locations", LocationViewSet, basename="stocklocation")
    router.register("stock", StockViewSet, basename="stock")
    router.register("stock-movements", MovementViewSet, basename="movement")
