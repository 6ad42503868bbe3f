from django.conf import settings
from django.urls import path
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from aftersales.core.api_settings import JSONParser

from .lockout import forget_failures, locked_out_body, retry_after_s


class TokenView(ObtainAuthToken):
    """DRF's token endpoint, reading JSON with the API's bounded-depth parser (it is open to anyone).

    django-axes counts its failures like the login page's (the serializer passes the request to `authenticate`), but
    axes marks the DRF request, which its middleware does not see: a locked attempt is answered here, 429 in JSON."""

    parser_classes = (FormParser, MultiPartParser, JSONParser)

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except ValidationError:
            if getattr(request, "axes_locked_out", False):
                return Response(locked_out_body(), status=429, headers={"Retry-After": str(retry_after_s())})
            raise
        user = serializer.validated_data["user"]
        if settings.AXES_ENABLED:
            forget_failures(request, user)  # no `login()` here, so no user_logged_in signal
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


urlpatterns = [path("", TokenView.as_view(), name="api-token")]
