from django import template

from aftersales.notify.selectors import BELL_CAP, unread_count

register = template.Library()


@register.inclusion_tag("notify/_bell.html", takes_context=True)
def notification_bell(context):
    """The navigation bar's bell: one indexed query that counts at most BELL_CAP + 1 rows."""
    return {"unread": unread_count(context.get("user")), "cap": BELL_CAP}
