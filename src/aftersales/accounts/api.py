from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from aftersales.core import clock
from aftersales.core.plausible import implausible_message, is_plausible, plausible_extra_kwargs
from aftersales.core.rows import row_id
from aftersales.core.api_base import ErrorOut, ScopedModelViewSet, ScopedPrimaryKeyField, ScopedReadOnlyViewSet
from aftersales.core.errors import DomainError

from . import tokens
from .filters import StaffFilter
from .models import ApiToken, Branch, OnCallShift, Specialty, User
from .selectors import on_duty


class BranchSerializer(serializers.ModelSerializer):
    class Meta:
        model = Branch
        fields = ["id", "name", "code", "address", "latitude", "longitude", "phone"]


class StaffSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "full_name", "position", "specialty", "phone", "email", "branch"]


class OnCallShiftSerializer(serializers.ModelSerializer):
    branch = ScopedPrimaryKeyField(queryset=Branch.objects.all())
    user = ScopedPrimaryKeyField(queryset=User.objects.filter(customer__isnull=True))

    class Meta:
        model = OnCallShift
        fields = ["id", "branch", "user", "specialty", "weekday", "start_time", "end_time", "valid_from", "valid_until"]
        extra_kwargs = plausible_extra_kwargs("valid_from", "valid_until")  # dates people type: 2000 … today + 10 y

    def validate(self, data):
        start, until = data.get("valid_from"), data.get("valid_until")
        if start and until and until < start:
            raise serializers.ValidationError({"valid_until": ["The shift cannot end before it starts."]})
        return data


class BranchViewSet(ScopedReadOnlyViewSet):
    queryset = Branch.objects.order_by("name")
    serializer_class = BranchSerializer


class StaffViewSet(ScopedReadOnlyViewSet):
    queryset = User.objects.filter(customer__isnull=True, is_active=True).select_related("branch").order_by("full_name", "pk")
    serializer_class = StaffSerializer
    filterset_class = StaffFilter


class OnCallShiftViewSet(ScopedModelViewSet):
    queryset = OnCallShift.objects.select_related("user", "branch").order_by("branch", "weekday", "start_time", "pk")
    serializer_class = OnCallShiftSerializer
    filterset_fields = ["branch", "specialty", "user"]

    @extend_schema(
        parameters=[
            OpenApiParameter("at", OpenApiTypes.DATETIME, description="Instant (ISO 8601); now if omitted"),
            OpenApiParameter("branch", OpenApiTypes.INT),
            OpenApiParameter("specialty", OpenApiTypes.STR, enum=Specialty.values),
        ],
        responses=StaffSerializer(many=True),
    )
    @action(detail=False, methods=["get"], url_path="on-duty", pagination_class=None, filter_backends=[])
    def on_duty(self, request):
        """ORG-2: who is on duty at an instant, for a branch and specialty."""
        raw_at = request.query_params.get("at")
        try:
            at = parse_datetime(raw_at) if raw_at else clock.now()
        except ValueError:  # well-formed but no such day (30 February)
            at = None
        if at is None or at.tzinfo is None:
            raise ValidationError({"at": ["Give an ISO 8601 date and time with a UTC offset."]})
        if not is_plausible(at):
            raise ValidationError({"at": [implausible_message()]})
        specialty = request.query_params.get("specialty") or None
        if specialty and specialty not in Specialty.values:
            raise ValidationError({"specialty": [f"Unknown specialty; use one of {', '.join(Specialty.values)}."]})
        branch = request.query_params.get("branch")
        if branch and row_id(branch) is None:
            raise ValidationError({"branch": ["A branch id is a number."]})
        users = on_duty(self.get_queryset(), at=at, branch=row_id(branch) if branch else None, specialty=specialty)
        return Response(StaffSerializer(users, many=True).data)


class ApiTokenOut(serializers.ModelSerializer):
    """One of the caller's API tokens, never its secret."""

    expired = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "name", "created_at", "expires_at", "last_used_at", "expired"]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_expired(self, token) -> bool:
        return token.has_expired(clock.now())


SECRET_HEADERS = {"Cache-Control": "no-store"}  # an answer that carries a token's secret is kept nowhere


class IssuedTokenOut(ApiTokenOut):
    """A token just issued, with its secret: the only time the secret is shown."""

    token = serializers.CharField(source="secret", help_text="The secret, shown this once: send it as "
                                                             "`Authorization: Token <token>`.")

    class Meta(ApiTokenOut.Meta):
        fields = ["token", *ApiTokenOut.Meta.fields]


class ApiTokenIn(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="What the token is for, e.g. “monitoring script”.")
    days = serializers.IntegerField(min_value=1, required=False,
                                    help_text="Valid for this many days; at most, and by default, "
                                              "AFTERSALES_API_TOKEN_DAYS (90 unless configured).")


class RevokeTokenIn(serializers.Serializer):
    id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class PasswordRequired(DomainError):
    status = 403
    code = "password_required"


class ApiTokenViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own API tokens: listed (never a secret), issued, revoked. Nobody sees or revokes another user's
    tokens. A token may revoke but not issue one (it would outlive itself): issuing needs a logged-in session, or the
    password at /api/auth/token/."""

    serializer_class = ApiTokenOut
    permission_classes = [IsAuthenticated]
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the view: no user
            return ApiToken.objects.none()
        return tokens.tokens_of(self.request.user)

    @extend_schema(request=ApiTokenIn, responses={
        201: IssuedTokenOut,
        403: OpenApiResponse(ErrorOut, description="`password_required`: called with a token; log in with a "
                                                   "session or use /api/auth/token/."),
        400: OpenApiResponse(ErrorOut, description="`invalid`: the fields; `too_many_tokens`."),
    })
    def create(self, request):
        if isinstance(request.auth, ApiToken):
            raise PasswordRequired(_("An API token cannot issue tokens: use your password (the API tokens page, or "
                                     "/api/auth/token/)."))
        serializer = ApiTokenIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, secret = tokens.issue_token(user=request.user, **serializer.validated_data)
        token.secret = secret
        return Response(IssuedTokenOut(token).data, status=201, headers=SECRET_HEADERS)

    @extend_schema(request=RevokeTokenIn, responses={
        204: None, 404: OpenApiResponse(ErrorOut, description="`not_found`: no such token among the caller's.")})
    @action(detail=False, methods=["post"])
    def revoke(self, request):
        """Revoke one of the caller's tokens (it may be the one this request is made with)."""
        serializer = RevokeTokenIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens.revoke_token(user=request.user, token_id=serializer.validated_data["id"])
        return Response(status=204)


def register(router) -> None:
    router.register("branches", BranchViewSet, basename="branch")
    router.register("staff", StaffViewSet, basename="staff")
    router.register("shifts", OnCallShiftViewSet, basename="oncallshift")
    router.register("auth/tokens", ApiTokenViewSet, basename="apitoken")
