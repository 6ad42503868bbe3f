"""SRQ-9: the knowledge base on other apps' pages, each one line in their template:

- ``{% related_articles object devices %}`` on the request page (staff, and engineers on their phone): the published
  articles matching the request's devices and words ("相关知识"), and, on a solved request, the button that proposes
  its article;
- ``{% try_first_articles %}`` next to the portal's report form: "先试试这些", the customer-visible articles for the
  customer's most common device models, refreshed by knowledge/try_first.js as the customer types."""

from django import template
from django.db.models import Count

from aftersales.assets.models import Device
from aftersales.core.scoping import visible

from .. import matching, services
from ..models import Article

register = template.Library()

TRY_FIRST = 5
COMMON_MODELS = 5


@register.inclusion_tag("knowledge/_related.html", takes_context=True)
def related_articles(context, request_obj, devices=None):
    user = context["request"].user
    if not user.has_perm("knowledge.view_article"):
        return {"show": False}
    articles = matching.for_request(user, request_obj, devices=devices)
    proposable = (not user.customer_id and user.has_perm(services.WRITE)
                  and request_obj.state in services.PROPOSABLE_STATES)
    proposed = None
    if proposable:
        proposed = Article.objects.filter(source_request=request_obj).only("pk", "title", "state").first()
    return {"show": True, "articles": articles, "request_obj": request_obj, "proposable": proposable,
            "proposed": proposed, "is_customer": bool(user.customer_id), "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("knowledge/_try_first.html", takes_context=True)
def try_first_articles(context):
    """For a customer's user only: without JS, the articles for their most common device models."""
    http_request = context["request"]
    user = http_request.user
    if not user.customer_id or not user.has_perm("knowledge.view_article"):
        return {"show": False}
    common = list(visible(Device.objects.all(), user).exclude(model="").values("model", "manufacturer_id")
                  .annotate(n=Count("pk")).order_by("-n", "model")[:COMMON_MODELS])
    devices = [Device(model=row["model"], manufacturer_id=row["manufacturer_id"]) for row in common]
    articles = matching.matching_articles(user, devices=devices, limit=TRY_FIRST)
    return {"show": True, "articles": articles, "request": http_request}
