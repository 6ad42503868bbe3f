"""The canned reply chooser of a service request's reply and comment forms (issue 25 §7): the replies offered for the
request (its branch's and the all-branch ones) expanded for it, loaded in one query (two when a reply asks for the
arrival deadline)."""

from django import template

from aftersales.service.models import ServiceRequest

from .. import selectors
from ..placeholders import needs_targets, render, values_for

register = template.Library()

# The request page's action forms that get the chooser, and the textarea each fills in.
TEXTAREAS = {"reply": "plan", "comment": "text"}


@register.simple_tag(takes_context=True)
def canned_replies(context, request_obj, action_name) -> dict | None:
    """{"field": textarea name, "choices": [(reply, expanded text)]}, or None when the form gets no chooser."""
    field = TEXTAREAS.get(action_name)
    http_request = context.get("request")
    user = getattr(http_request, "user", None)
    if field is None or user is None or not isinstance(request_obj, ServiceRequest):
        return None
    replies = list(selectors.offered(user, request_obj))
    if not replies:
        return None
    values = values_for(request_obj, arrival=needs_targets(reply.body for reply in replies))
    return {"field": field, "choices": [(reply, render(reply.body, request_obj, values=values)) for reply in replies]}
