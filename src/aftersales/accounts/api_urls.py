from django.urls import path
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, MultiPartParser

from aftersales.core.api_settings import JSONParser


class TokenView(ObtainAuthToken):
    """DRF's token endpoint, reading JSON with the API's bounded-depth parser (it is open to anyone)."""

    parser_classes = (FormParser, MultiPartParser, JSONParser)


urlpatterns = [path("", TokenView.as_view(), name="api-token")]
