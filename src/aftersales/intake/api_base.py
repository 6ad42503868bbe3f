"""What the intake channels' APIs share: the page permission the desk's lists mirror, the reference to a
request in an answer, and the documented error answers."""

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import BasePermission

from aftersales.core.api_base import ErrorOut

DESK_PERM = "service.handle_request"  # the triage and unmatched-alarms pages

ERRORS = {
    400: OpenApiResponse(ErrorOut, description="Not valid: `code` `invalid`, and the messages per field in `fields` "
                                               "(`{\"field\": [\"…\"]}`); nothing written."),
    403: OpenApiResponse(ErrorOut, description="Not allowed for this user."),
    404: OpenApiResponse(ErrorOut, description="No such object among the caller's (another customer's or branch's "
                                               "looks the same)."),
}
NO_INPUT_ERRORS = {403: ERRORS[403], 404: ERRORS[404]}  # verbs without a body
HANDLED = {409: OpenApiResponse(ErrorOut, description="Handled already (by someone else, or in another tab).")}
LIST_ERRORS = {403: ERRORS[403]}


class PagePermission(BasePermission):
    """The permission of the page this viewset mirrors, named by the viewset's `permission_required`."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(view.permission_required))


class RequestRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    state = serializers.CharField()
    url = serializers.CharField()


def request_ref(request_obj) -> dict | None:
    if request_obj is None:
        return None
    return {"id": request_obj.pk, "number": request_obj.number, "state": request_obj.state,
            "url": settings.SITE_URL.rstrip("/") + request_obj.get_absolute_url()}
