"""`/api/auth/token/`: a username and password (open to anyone) for a new API token (accounts/tokens.py)."""

from django.conf import settings
from django.contrib.auth import authenticate
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from aftersales.core.api_base import ErrorOut
from aftersales.core.api_settings import JSONParser
from aftersales.core.errors import DomainError

from . import otp
from .api import SECRET_HEADERS, ApiTokenIn, IssuedTokenOut
from .lockout import forget_failures, locked_out_body, retry_after_s
from .tokens import issue_token


class InvalidCredentials(DomainError):
    code = "invalid_credentials"


class OtpRequired(DomainError):
    code = "otp_required"


class OtpInvalid(DomainError):
    status = 401
    code = "otp_invalid"


class OtpEnrolmentRequired(DomainError):
    status = 403
    code = "otp_enrolment_required"


class TokenLoginIn(ApiTokenIn):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=1024, trim_whitespace=False, style={"input_type": "password"})
    name = serializers.CharField(max_length=100, required=False,
                                 help_text="What the token is for; default: “API login”.")
    otp = serializers.CharField(max_length=16, required=False,
                                help_text="The current 6-digit code of the user's authenticator app: required when "
                                          "the user has set up two-factor authentication.")


class TokenView(APIView):
    """Issue 20, point 1: a new token for a username and password (and the second factor's code, for a user who has
    one: accounts/otp.py), valid AFTERSALES_API_TOKEN_DAYS days or `days`.

    django-axes counts the failures like the login page's (`authenticate` gets the request), wrong codes included
    (`otp.record_failure`), and refuses a locked account or address before any password is hashed; axes marks the DRF
    request, which its middleware does not see, so a locked attempt is answered here: 429 in JSON with Retry-After.
    The body is read with the API's bounded-depth parser. No authentication runs here: a stale `Authorization` header
    does not stand in the way."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    parser_classes = (JSONParser, FormParser, MultiPartParser)

    @extend_schema(
        operation_id="auth_token_create",
        description="A new API token for a username and password, valid AFTERSALES_API_TOKEN_DAYS days (90 unless "
                    "configured) or `days`. Send it as `Authorization: Token <token>`; list and revoke your tokens "
                    "at /api/auth/tokens/. A user with two-factor authentication also sends `otp`. Wrong passwords "
                    "and codes count toward the login lockout.",
        request=TokenLoginIn,
        responses={
            200: IssuedTokenOut,
            400: OpenApiResponse(ErrorOut, description="`invalid_credentials`: wrong username or password, or an "
                                                       "inactive user; `otp_required`: the user has two-factor "
                                                       "authentication and sent no `otp`; `invalid`: the fields "
                                                       "(see `fields`); `too_many_tokens`."),
            401: OpenApiResponse(ErrorOut, description="`otp_invalid`: the password was right, the `otp` code is "
                                                       "not the current one (it counts as a failed login)."),
            403: OpenApiResponse(ErrorOut, description="`otp_enrolment_required`: an administrator must set up "
                                                       "two-factor authentication first (AFTERSALES_REQUIRE_ADMIN_OTP)."),
            429: OpenApiResponse(ErrorOut, description="`locked_out`: too many failed logins for this account or "
                                                       "from this address; the password is not checked. Retry-After "
                                                       "says in how many seconds to try again."),
        },
    )
    def post(self, request, *args, **kwargs):
        serializer = TokenLoginIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = authenticate(request=request, username=data["username"], password=data["password"])
        if user is None:
            if getattr(request, "axes_locked_out", False):
                return Response(locked_out_body(), status=429, headers={"Retry-After": str(retry_after_s())})
            raise InvalidCredentials(_("Unable to log in with provided credentials."))
        self.check_second_factor(request, user, data.get("otp"))
        if settings.AXES_ENABLED:
            forget_failures(request, user)  # no `login()` here, so no user_logged_in signal
        token, secret = issue_token(user=user, name=data.get("name"), days=data.get("days"))
        token.secret = secret
        return Response(IssuedTokenOut(token).data, headers=SECRET_HEADERS)

    @staticmethod
    def check_second_factor(request, user, code: str | None) -> None:
        """A token is a login: a user with a device gives its code here as on the code page; an administrator who
        must have a device (AFTERSALES_REQUIRE_ADMIN_OTP) gets no token before enrolling one."""
        if not otp.has_device(user):
            if otp.required(user):
                raise OtpEnrolmentRequired(_("Set up two-factor authentication first."))
            return
        if not code:
            raise OtpRequired(_("Enter the code from your authenticator app (field “otp”)."), field="otp")
        if not otp.verify(user, code):
            otp.record_failure(request, user)
            raise OtpInvalid(_("The code from your authenticator app is not right. Try the current one."),
                             field="otp")


urlpatterns = [path("", TokenView.as_view(), name="api-token")]
